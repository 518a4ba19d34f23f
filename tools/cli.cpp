// SPDX-License-Identifier: MPL-2.0
// cli: shared flags and helpers of the zmesh tools.
#include "cli.hpp"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>

namespace zmesh::cli {

void add_node_flags(po::options_description& desc) {
    const options d;
    const char* env_interface = std::getenv("ZMESH_INTERFACE");
    // clang-format off
    desc.add_options()
        ("name", po::value<std::string>(), "node name (default: HOST-PID)")
        ("mesh", po::value<std::string>()->default_value(d.mesh), "mesh id; nodes only see their own mesh")
        ("beacon-port", po::value<unsigned>()->default_value(d.beacon_port), "UDP beacon port")
        ("beacon-interval", po::value<std::string>()->default_value(std::to_string(d.beacon_interval.count())), "ms between beacons, or with a unit (2s) (0: no beacons)")
        ("interface", po::value<std::string>()->default_value(env_interface ? env_interface : "auto"),
            "beacon interface NAME or IP, or auto (loopback + one LAN NIC); default from $ZMESH_INTERFACE")
        ("advertise", po::value<std::string>(), "host peers should dial (default: as they see us)")
        ("seed", po::value<std::vector<std::string>>()->composing(),
            "tcp://HOST:PORT of a node's ROUTER (repeatable); with --key, NAME@tcp://... (NAME.pub in --allow) or KEY@tcp://...")
        ("bind", po::value<std::string>()->default_value(d.bind), "host to bind PUB and ROUTER on")
        ("pub-port", po::value<unsigned>()->default_value(0), "PUB port (0: any free)")
        ("router-port", po::value<unsigned>()->default_value(0), "ROUTER port (0: any free; fix it on seed nodes)")
        ("heartbeat", po::value<std::string>()->default_value(std::to_string(d.liveness.heartbeat.count())), "ms between heartbeats, or with a unit (0.5s)")
        ("evasive", po::value<std::string>()->default_value(std::to_string(d.liveness.evasive.count())), "ms of silence before a peer is evasive, or with a unit (1s)")
        ("expire", po::value<std::string>()->default_value(std::to_string(d.liveness.expired.count())), "ms of silence before a peer has left, or with a unit (3s)")
        ("hwm", po::value<int>()->default_value(d.send_hwm), "events queued per peer, each way, before dropping")
        ("max-peers", po::value<std::size_t>()->default_value(d.max_peers), "peers at once; past it newcomers are not dialled")
        ("key", po::value<std::string>(), "secret key file (zmesh keygen): a secured mesh, CURVE on every connection")
        ("allow", po::value<std::string>(), "directory of members' *.pub keys, re-read when it changes (with --key)")
        ("mesh-secret", po::value<std::string>(), "file holding the secret shared by members: beacons are signed (needed with --key)")
        ("log-level", po::value<std::string>()->default_value("info"), "error, warn, info or debug");
    // clang-format on
}

namespace {
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
    if (vm.count("seed")) o.seeds = vm["seed"].as<std::vector<std::string>>();
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
    if (vm.count("key")) o.secret_key = read_secret_key(vm["key"].as<std::string>());
    if (vm.count("mesh-secret")) o.mesh_secret = read_mesh_secret(vm["mesh-secret"].as<std::string>());
    if (vm.count("allow")) o.allow_dir = vm["allow"].as<std::string>();
    if (o.secret_key.empty() && !o.allow_dir.empty()) throw std::invalid_argument("--allow needs --key");
    if (!o.secret_key.empty() && o.allow_dir.empty()) throw std::invalid_argument("--key needs --allow DIR");
    if (!o.secret_key.empty() && o.mesh_secret.empty()) throw std::invalid_argument("--key needs --mesh-secret FILE");
    if (o.secret_key.empty() && !o.mesh_secret.empty()) throw std::invalid_argument("--mesh-secret needs --key");
    for (auto& seed : o.seeds) seed = resolve_seed_key(seed, o.allow_dir);
    if (auto error = validate(o); !error.empty() && !(o.name.empty() && error.starts_with("name")))
        throw std::invalid_argument(error);
    return o;
}

po::variables_map parse(int argc, char** argv, const po::options_description& desc,
                        const char* usage, const po::positional_options_description* positional) {
    po::options_description all(desc);
    all.add_options()("help,h", "show this help");
    po::variables_map vm;
    try {
        po::command_line_parser parser(argc, argv);
        parser.options(all);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), vm);
        if (vm.count("help")) {
            std::cout << "usage: " << usage << "\n\n" << all << "\n";
            std::exit(0);
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << argv[0] << ": error: " << e.what() << " (see --help)\n";
        std::exit(2);
    }
    return vm;
}

void block_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

int wait_for_signal(std::chrono::milliseconds timeout) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec ts{static_cast<time_t>(timeout.count() / 1000),
                static_cast<long>(timeout.count() % 1000) * 1000000L};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    return sig > 0 ? sig : 0;
}

nlohmann::json to_json(const peer_info& p) {
    return {{"name", p.name},
            {"id", p.id.hex()},
            {"state", std::string(to_string(p.state))},
            {"endpoints", {{"pub", p.pub_endpoint}, {"router", p.router_endpoint}}},
            {"services", p.services},
            {"subscriptions", p.subscriptions},
            {"last_seen_ms", p.last_seen_ms},
            {"rtt_us", p.rtt_us}};
}

nlohmann::json to_json(const node_stats& s) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, value] : counters_of(s)) j[name] = value;
    return j;
}

nlohmann::json to_json(const event& e) {
    nlohmann::json j = {{"topic", e.topic()},
                        {"sender", {{"id", e.sender().hex()}, {"name", e.sender_name()}}},
                        {"seq", e.seq()},
                        {"sent_us", e.sent_us()}};
    try {
        j["payload"] = nlohmann::json::from_msgpack(e.payload().begin(), e.payload().end());
    } catch (const std::exception& ex) {
        j["payload_error"] = ex.what();
    }
    return j;
}

std::vector<std::uint8_t> json_to_msgpack(const std::string& text) {
    try {
        return nlohmann::json::to_msgpack(nlohmann::json::parse(text));
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument("not JSON: " + std::string(e.what()));
    }
}

wait_result wait_for(const node& n, const std::function<bool(const std::vector<peer_info>&)>& ready,
                     std::chrono::milliseconds timeout, std::chrono::milliseconds settle) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::pair<node_id, peer_state>> last_table;
    auto changed_at = std::chrono::steady_clock::now();
    while (true) {
        auto members = n.peers();
        std::vector<std::pair<node_id, peer_state>> table;
        bool handshaking = false;
        for (const auto& p : members) {
            table.emplace_back(p.id, p.state);
            handshaking |= p.state == peer_state::connecting;
        }
        if (table != last_table) {   // peers() comes sorted
            last_table = std::move(table);
            changed_at = std::chrono::steady_clock::now();
        }
        const bool settled = settle.count() == 0 ||
                             (!handshaking && std::chrono::steady_clock::now() - changed_at >= settle);
        std::erase_if(members, [](const peer_info& p) {
            return p.observer || p.state != peer_state::joined;
        });
        if (settled && ready(members)) return wait_result::ready;
        if (std::chrono::steady_clock::now() >= deadline) return wait_result::timed_out;
        if (wait_for_signal(std::chrono::milliseconds(20))) return wait_result::interrupted;
    }
}

bool wait_for_members(const node& n, std::size_t count, std::chrono::milliseconds timeout,
                      bool with_subscriptions) {
    return wait_for(n, [&](const std::vector<peer_info>& members) {
        return static_cast<std::size_t>(std::count_if(members.begin(), members.end(), [&](const auto& p) {
                   return !with_subscriptions || p.subscriptions_known;
               })) >= count;
    }, timeout) == wait_result::ready;
}

int fail(const char* program, const std::string& message) {
    std::cerr << program << ": error: " << message << "\n";
    return 1;
}

}  // namespace zmesh::cli
