// SPDX-License-Identifier: MPL-2.0
// cli_flags: the command line of every zmesh tool: its own options, the node's flags and
// their environment variables, positional arguments, --help and --version.
#include "cli.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#ifndef ZMESH_VERSION
#error "ZMESH_VERSION is the project's version, defined by tools/CMakeLists.txt"
#endif

namespace zmesh::cli {

const char* const version = ZMESH_VERSION;

namespace {

// Returns: environment variable `name`, or "" when it is not set or empty.
std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// The flags a user of a mesh needs: which mesh, who we are, how to reach it, its keys.
po::options_description mesh_flags() {
    const options d;
    const auto mesh = env("ZMESH_MESH"), interface = env("ZMESH_INTERFACE");
    po::options_description desc("mesh options (the $ZMESH_ variables named stand in for flags not given)");
    // clang-format off
    desc.add_options()
        ("mesh", po::value<std::string>()->default_value(mesh.empty() ? d.mesh : mesh), "mesh id; nodes only see their own mesh ($ZMESH_MESH)")
        ("name", po::value<std::string>(), "node name (default: HOST-PID, or COMMAND-PID for zmesh)")
        ("seed", po::value<std::vector<std::string>>()->composing(),
            "tcp://HOST:PORT of a node's ROUTER (repeatable; $ZMESH_SEED, comma-separated); with --key, NAME@tcp://... (NAME.pub in --allow) or KEY@tcp://...")
        ("interface", po::value<std::string>()->default_value(interface.empty() ? "auto" : interface),
            "beacon interface NAME or IP, or auto (loopback + one LAN NIC) ($ZMESH_INTERFACE)")
        ("beacon-port", po::value<unsigned>()->default_value(d.beacon_port), "UDP beacon port")
        ("key", po::value<std::string>(), "secret key file (zmesh keygen): a secured mesh, CURVE on every connection ($ZMESH_KEY)")
        ("allow", po::value<std::string>(), "directory of members' *.pub keys, re-read when it changes (with --key) ($ZMESH_ALLOW)")
        ("mesh-secret", po::value<std::string>(), "file holding the secret shared by members: beacons are signed (needed with --key) ($ZMESH_MESH_SECRET)");
    // clang-format on
    return desc;
}

// How a node runs: timings, sockets, bounds. Rarely needed on the command line.
po::options_description tuning_flags() {
    const options d;
    po::options_description desc("node tuning");
    // clang-format off
    desc.add_options()
        ("beacon-interval", po::value<std::string>()->default_value(std::to_string(d.beacon_interval.count())), "ms between beacons, or with a unit (2s) (0: no beacons)")
        ("advertise", po::value<std::string>(), "host peers should dial (default: as they see us)")
        ("bind", po::value<std::string>()->default_value(d.bind), "host to bind PUB and ROUTER on")
        ("pub-port", po::value<unsigned>()->default_value(0), "PUB port (0: any free)")
        ("router-port", po::value<unsigned>()->default_value(0), "ROUTER port (0: any free; fix it on seed nodes)")
        ("heartbeat", po::value<std::string>()->default_value(std::to_string(d.liveness.heartbeat.count())), "ms between heartbeats, or with a unit (0.5s)")
        ("evasive", po::value<std::string>()->default_value(std::to_string(d.liveness.evasive.count())), "ms of silence before a peer is evasive, or with a unit (1s)")
        ("expire", po::value<std::string>()->default_value(std::to_string(d.liveness.expired.count())), "ms of silence before a peer has left, or with a unit (3s)")
        ("hwm", po::value<int>()->default_value(d.send_hwm), "events queued per peer, each way, before dropping")
        ("max-peers", po::value<std::size_t>()->default_value(d.max_peers), "peers at once; past it newcomers are not dialled");
    // clang-format on
    return desc;
}

// Returns: `seed` with a NAME before '@' replaced by the key in DIR/NAME.pub, so users name
// seeds as they name members. A Z85 key, or no '@', is left as it is.
std::string resolve_seed_key(const std::string& seed, const std::string& allow_dir) {
    const auto parts = split_seed(seed);
    if (parts.key.empty() || decode_key(parts.key) || allow_dir.empty()) return seed;
    std::ifstream in(allow_dir + "/" + parts.key + ".pub");
    std::string key;
    if (!(in >> key) || !decode_key(key))
        throw std::invalid_argument("--seed " + seed + ": no key in " + allow_dir + "/" + parts.key + ".pub");
    return key + "@" + parts.endpoint;
}

std::uint16_t port_value(const po::variables_map& vm, const char* name, bool allow_zero) {
    const unsigned v = vm[name].as<unsigned>();
    if (v > 65535 || (!allow_zero && v == 0))
        throw std::invalid_argument(std::string("--") + name + " must be " +
                                    (allow_zero ? "0" : "1") + "..65535");
    return static_cast<std::uint16_t>(v);
}

// Returns: flag `name` when given, else environment variable `var` ("" when neither).
std::string flag_or_env(const po::variables_map& vm, const char* name, const char* var) {
    return vm.count(name) ? vm[name].as<std::string>() : env(var);
}

// Returns: the seeds of $ZMESH_SEED, separated by commas or white space.
std::vector<std::string> env_seeds() {
    auto text = env("ZMESH_SEED");
    for (auto& c : text)
        if (c == ',') c = ' ';
    std::istringstream in(text);
    std::vector<std::string> seeds;
    for (std::string s; in >> s;) seeds.push_back(s);
    return seeds;
}

[[noreturn]] void usage_error(const command_spec& spec, const std::string& message) {
    std::cerr << spec.program << ": error: " << message << " (usage: " << spec.usage << "; see --help)\n";
    std::exit(2);
}

}  // namespace

milliseconds duration_flag(const po::variables_map& vm, const char* name, milliseconds unit) {
    const auto text = vm[name].as<std::string>();
    const char* const first = text.data();
    const char* const last = first + text.size();
    double number = 0;
    const auto [end, error] = std::from_chars(first, last, number);
    const std::string_view suffix(end, static_cast<std::size_t>(last - end));
    double ms = -1;
    if (error == std::errc() && end != first) {
        if (suffix.empty())
            ms = number * static_cast<double>(unit.count());
        else if (suffix == "ms")
            ms = number;
        else if (suffix == "s")
            ms = number * 1000;
    }
    // At most a year: past it a typo, and the cast below would overflow.
    if (!(ms >= 0 && ms <= 365.0 * 24 * 3600 * 1000))
        throw std::invalid_argument("--" + std::string(name) + " '" + text + "' is not a duration: a number of " +
                                    (unit.count() == 1 ? "ms" : "seconds") + " >= 0, or one with a unit (250ms, 2s)");
    return milliseconds(static_cast<std::int64_t>(ms));
}

options node_options(const po::variables_map& vm) {
    options o;
    if (vm.count("name")) o.name = vm["name"].as<std::string>();
    o.mesh = vm["mesh"].as<std::string>();
    o.beacon_port = port_value(vm, "beacon-port", false);
    o.beacon_interval = duration_flag(vm, "beacon-interval", milliseconds(1));
    o.interface = vm["interface"].as<std::string>();
    if (vm.count("advertise")) o.advertise = vm["advertise"].as<std::string>();
    o.seeds = vm.count("seed") ? vm["seed"].as<std::vector<std::string>>() : env_seeds();
    o.bind = vm["bind"].as<std::string>();
    o.pub_port = port_value(vm, "pub-port", true);
    o.router_port = port_value(vm, "router-port", true);
    o.liveness.heartbeat = duration_flag(vm, "heartbeat", milliseconds(1));
    o.liveness.evasive = duration_flag(vm, "evasive", milliseconds(1));
    o.liveness.expired = duration_flag(vm, "expire", milliseconds(1));
    // A dialled peer gets as long to answer as a silent one gets to be declared gone.
    o.liveness.handshake = o.liveness.expired;
    o.send_hwm = o.receive_hwm = vm["hwm"].as<int>();
    if (o.send_hwm < 0) throw std::invalid_argument("--hwm must be >= 0 (0: no limit)");
    o.max_peers = vm["max-peers"].as<std::size_t>();
    if (o.max_peers < 1 || o.max_peers > 65536) throw std::invalid_argument("--max-peers must be 1..65536");
    const auto level = parse_log_level(vm["log-level"].as<std::string>());
    if (!level) throw std::invalid_argument("--log-level must be error, warn, info or debug");
    o.log = *level;
    if (const auto key = flag_or_env(vm, "key", "ZMESH_KEY"); !key.empty()) o.secret_key = read_secret_key(key);
    if (const auto secret = flag_or_env(vm, "mesh-secret", "ZMESH_MESH_SECRET"); !secret.empty())
        o.mesh_secret = read_mesh_secret(secret);
    o.allow_dir = flag_or_env(vm, "allow", "ZMESH_ALLOW");
    if (o.secret_key.empty() && !o.allow_dir.empty()) throw std::invalid_argument("--allow needs --key");
    if (!o.secret_key.empty() && o.allow_dir.empty()) throw std::invalid_argument("--key needs --allow DIR");
    if (!o.secret_key.empty() && o.mesh_secret.empty()) throw std::invalid_argument("--key needs --mesh-secret FILE");
    if (o.secret_key.empty() && !o.mesh_secret.empty()) throw std::invalid_argument("--mesh-secret needs --key");
    for (auto& seed : o.seeds) seed = resolve_seed_key(seed, o.allow_dir);
    if (auto error = validate(o); !error.empty() && !(o.name.empty() && error.starts_with("name")))
        throw std::invalid_argument(error);
    return o;
}

command_line parse(int argc, char** argv, const command_spec& spec, const po::options_description& own) {
    po::options_description general("general");
    general.add_options()("help,h", "show this help (--help-all: with the node tuning flags)")(
        "help-all", "show this help with every flag")("version", "print the version and exit");
    po::options_description mesh = spec.node_flags ? mesh_flags() : po::options_description("");
    po::options_description tuning = spec.node_flags ? tuning_flags() : po::options_description("");
    if (spec.node_flags)
        mesh.add_options()("log-level", po::value<std::string>()->default_value(spec.log_level),
                           "error, warn, info or debug (on stderr)");
    po::options_description hidden;
    hidden.add_options()("args", po::value<std::vector<std::string>>(), "");
    po::options_description all;
    all.add(own).add(mesh).add(tuning).add(general).add(hidden);
    po::positional_options_description pos;
    pos.add("args", -1);

    command_line cl;
    try {
        po::command_line_parser parser(argc, argv);
        // Whole flags only: Boost would take --nam for --name, and a flag added later could
        // silently change what an abbreviation in someone's script means.
        parser.options(all).positional(pos).style(po::command_line_style::default_style &
                                                  ~po::command_line_style::allow_guessing);
        po::store(parser.run(), cl.vm);
        if (cl.vm.count("version")) {
            const auto tool = spec.program.substr(0, spec.program.find(' '));
            std::cout << tool << " " << version << "\n";
            std::exit(0);
        }
        if (cl.vm.count("help") || cl.vm.count("help-all")) {
            std::cout << "usage: " << spec.usage << "\n\n";
            if (!spec.about.empty()) std::cout << spec.about << "\n\n";
            po::options_description shown;
            shown.add(own);
            if (spec.node_flags) shown.add(mesh);
            if (spec.node_flags && cl.vm.count("help-all")) shown.add(tuning);
            shown.add(general);
            std::cout << shown << "\n";
            std::exit(0);
        }
        po::notify(cl.vm);
    } catch (const po::error& e) {
        usage_error(spec, e.what());
    }
    if (cl.vm.count("args")) cl.args = cl.vm["args"].as<std::vector<std::string>>();
    std::size_t required = 0;
    for (const auto& p : spec.positionals)
        if (!p.ends_with('?')) ++required;
    if (cl.args.size() > spec.positionals.size())
        usage_error(spec, "unexpected argument '" + cl.args[spec.positionals.size()] + "'");
    if (cl.args.size() < required) {
        auto name = spec.positionals[cl.args.size()];
        usage_error(spec, "missing " + name);
    }
    return cl;
}

}  // namespace zmesh::cli
