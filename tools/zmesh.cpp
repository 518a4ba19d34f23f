// SPDX-License-Identifier: MPL-2.0
// zmesh: one-shot mesh commands. Each joins the mesh as a node, waits for its peers, does
// one job and leaves:
//   zmesh pub --mesh M TOPIC JSON [--count N --rate HZ]   publish JSON as msgpack
//   zmesh sub --mesh M PREFIX [--count N] [--json]        print events, one per line
//   zmesh call --mesh M [--peer NAME] METHOD JSON         print the result as JSON
// Exit: 0 done, 1 failed (no peers, timeout, bad value, call failed), 2 bad flags.
#include "cli.hpp"
#include "protocol/event.hpp"

#include <cstdio>
#include <atomic>
#include <cstring>
#include <algorithm>
#include <iostream>
#include <thread>

#include <unistd.h>

namespace {

using namespace zmesh;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

// Flags every subcommand shares on top of the node's.
void add_job_flags(cli::po::options_description& desc) {
    // clang-format off
    desc.add_options()
        ("wait-peers", cli::po::value<std::size_t>()->default_value(1), "members to wait for before starting")
        ("wait", cli::po::value<std::string>()->default_value("10"), "the most seconds to wait for them, or with a unit (500ms)");
    // clang-format on
}

milliseconds seconds_flag(const cli::po::variables_map& vm, const char* name) {
    return cli::duration_flag(vm, name, milliseconds(1000));
}

options job_options(const cli::po::variables_map& vm, const char* role) {
    auto o = cli::node_options(vm);
    if (!vm.count("name")) o.name = std::string(role) + "-" + std::to_string(getpid());
    if (vm["log-level"].defaulted()) o.log = log_level::warn;   // stdout is the product
    return o;
}

int pub(int argc, char** argv) {
    cli::po::options_description desc("zmesh pub options");
    cli::add_node_flags(desc);
    add_job_flags(desc);
    // clang-format off
    desc.add_options()
        ("topic", cli::po::value<std::string>()->required(), "topic to publish on")
        ("json", cli::po::value<std::string>()->required(), "payload, as JSON")
        ("count", cli::po::value<std::uint64_t>()->default_value(1), "events to publish")
        ("rate", cli::po::value<double>()->default_value(0), "events per second (0: as fast as possible)");
    // clang-format on
    cli::po::positional_options_description pos;
    pos.add("topic", 1).add("json", 1);
    const auto vm = cli::parse(argc, argv, desc, "zmesh pub --mesh M TOPIC JSON [--count N --rate HZ]", &pos);

    node n(job_options(vm, "pub"));
    const auto payload = cli::json_to_msgpack(vm["json"].as<std::string>());
    const auto topic = vm["topic"].as<std::string>();
    if (protocol::check_topic(topic))
        throw std::invalid_argument("topic must be 1..255 bytes without NUL");
    const auto count = vm["count"].as<std::uint64_t>();
    const double rate = vm["rate"].as<double>();
    if (!(rate >= 0)) throw std::invalid_argument("--rate must be >= 0");
    n.start();
    const auto want = vm["wait-peers"].as<std::size_t>();
    // Members whose subscriptions we know have their filters at our PUB: nothing is lost.
    if (!cli::wait_for_members(n, want, seconds_flag(vm, "wait"), true))
        throw std::runtime_error("fewer than " + std::to_string(want) + " peers joined in time");

    const auto start = steady::now();
    for (std::uint64_t i = 0; i < count; ++i) {
        if (rate > 0) {
            const auto due = start + std::chrono::duration_cast<steady::duration>(
                                         std::chrono::duration<double>(static_cast<double>(i) / rate));
            if (cli::wait_for_signal(std::chrono::duration_cast<milliseconds>(due - steady::now())))
                break;
        }
        // A full queue means the reactor is behind: wait for room rather than drop.
        while (!n.publish_packed(topic, payload)) {
            if (!n.running()) throw std::runtime_error("node stopped");
            std::this_thread::yield();
        }
    }
    const auto stats = n.stats();
    n.stop();   // flushes what is queued for subscribers (up to 1 s)
    std::fprintf(stderr, "published %llu event(s) on %s to %zu peer(s)\n",
                 static_cast<unsigned long long>(stats.events_out), topic.c_str(), want);
    return 0;
}

int sub(int argc, char** argv) {
    cli::po::options_description desc("zmesh sub options");
    cli::add_node_flags(desc);
    add_job_flags(desc);
    // clang-format off
    desc.add_options()
        ("prefix", cli::po::value<std::string>()->default_value(""), "topic prefix (default: every topic)")
        ("count", cli::po::value<std::uint64_t>()->default_value(0), "exit after this many events (0: never)")
        ("timeout", cli::po::value<std::string>()->default_value("0"), "give up after this many seconds, or with a unit (500ms) (0: never)")
        ("json", "print each event as one JSON line");
    // clang-format on
    cli::po::positional_options_description pos;
    pos.add("prefix", 1);
    const auto vm = cli::parse(argc, argv, desc, "zmesh sub --mesh M [PREFIX] [--count N] [--json]", &pos);

    const auto count = vm["count"].as<std::uint64_t>();
    const bool json = vm.count("json") > 0;
    const auto timeout = seconds_flag(vm, "timeout");
    std::atomic<std::uint64_t> received{0};   // outlives the node, whose thread writes it
    std::atomic<std::size_t> ever_joined{0};   // members that joined, even if gone again
    node n(job_options(vm, "sub"));
    // A quick publisher can join, publish and leave between two looks at the peer table:
    // joins are counted as they happen.
    n.on_peer_event([&ever_joined](const peer_event& e) {
        if (e.kind == peer_event_kind::joined && !e.peer.observer) ++ever_joined;
    });
    // Runs on the node's delivery thread; the main thread only watches the count.
    n.subscribe(vm["prefix"].as<std::string>(), [&](const event& e) {
        if (count && received.load() >= count) return;
        std::string line;
        if (json) {
            line = cli::to_json(e).dump();
        } else {
            const auto j = cli::to_json(e);
            line = e.topic() + " " + e.sender_name() + " #" + std::to_string(e.seq()) + " " +
                   (j.contains("payload") ? j["payload"].dump() : "<" + j["payload_error"].get<std::string>() + ">");
        }
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
        ++received;
    });
    n.start();
    const auto want = vm["wait-peers"].as<std::size_t>();
    const auto joined = cli::wait_for(n, [&](const std::vector<peer_info>&) {
        return ever_joined.load() >= want || received.load() > 0;
    }, seconds_flag(vm, "wait"));
    if (joined != cli::wait_result::ready)
        throw std::runtime_error("fewer than " + std::to_string(want) + " peers joined in time");

    const auto start = steady::now();
    bool timed_out = false;
    while (!count || received.load() < count) {
        if (cli::wait_for_signal(milliseconds(20))) break;
        if (timeout.count() > 0 && steady::now() - start >= timeout) {
            timed_out = true;
            break;
        }
    }
    const auto stats = n.stats();
    n.stop();
    std::fprintf(stderr, "received %llu event(s), %llu gap(s), %llu invalid\n",
                 static_cast<unsigned long long>(received.load()),
                 static_cast<unsigned long long>(stats.events_gaps),
                 static_cast<unsigned long long>(stats.events_invalid));
    if (timed_out) {
        std::fprintf(stderr, "zmesh sub: error: timed out with %llu of %llu event(s)\n",
                     static_cast<unsigned long long>(received.load()),
                     static_cast<unsigned long long>(count));
        return 1;
    }
    return 0;
}

int call(int argc, char** argv) {
    cli::po::options_description desc("zmesh call options");
    cli::add_node_flags(desc);
    // clang-format off
    desc.add_options()
        ("method", cli::po::value<std::string>()->required(), "method to call")
        ("json", cli::po::value<std::string>()->default_value("null"), "arguments, as JSON")
        ("peer", cli::po::value<std::string>(), "call this peer (by name, or by its 32-hex-digit id) rather than any provider")
        ("timeout", cli::po::value<std::string>()->default_value("5000"), "ms to wait for the reply, or with a unit (2s)")
        ("wait", cli::po::value<std::string>()->default_value("10"), "the most seconds to wait for a provider, or with a unit (500ms)");
    // clang-format on
    cli::po::positional_options_description pos;
    pos.add("method", 1).add("json", 1);
    const auto vm = cli::parse(argc, argv, desc,
                               "zmesh call --mesh M [--peer NAME] METHOD JSON [--timeout MS]", &pos);
    const auto method = vm["method"].as<std::string>();
    const auto args = cli::json_to_msgpack(vm["json"].as<std::string>());
    const auto timeout = cli::duration_flag(vm, "timeout", milliseconds(1));
    if (timeout.count() <= 0) throw std::invalid_argument("--timeout must be > 0");
    const std::string peer_name = vm.count("peer") ? vm["peer"].as<std::string>() : "";

    node n(job_options(vm, "call"));
    n.start();
    // Wait for the provider to be joined; an absent one is NoProvider only after --wait.
    // --peer names a member by its id (32 hex digits) or by its name, which must be one
    // member's: the view must settle so that a second member of that name shows.
    const auto peer_id = node_id::from_hex(peer_name);
    std::vector<peer_info> named;
    const auto waited = cli::wait_for(n, [&](const std::vector<peer_info>& members) {
        named.clear();
        for (const auto& p : members)
            if (peer_id ? p.id == *peer_id : p.name == peer_name) named.push_back(p);
        if (!peer_name.empty()) return !named.empty();
        return std::any_of(members.begin(), members.end(), [&](const peer_info& p) {
            return std::binary_search(p.services.begin(), p.services.end(), method);
        });
    }, seconds_flag(vm, "wait"), peer_name.empty() || peer_id ? milliseconds(0) : milliseconds(150));
    if (waited == cli::wait_result::interrupted) return 1;
    if (!peer_name.empty() && named.empty()) {
        std::fprintf(stderr, "no_provider: no joined peer named '%s'\n", peer_name.c_str());
        return 1;
    }
    if (named.size() > 1) {
        std::string which;
        for (const auto& p : named) which += (which.empty() ? "" : ", ") + p.id.hex() + " at " + p.router_endpoint;
        std::fprintf(stderr, "ambiguous: %zu joined members are named '%s' (%s); name one by its id: --peer ID\n",
                     named.size(), peer_name.c_str(), which.c_str());
        return 1;
    }
    const std::optional<node_id> target = named.empty() ? std::nullopt : std::optional(named.front().id);
    auto future = n.call_packed(target, method, args, timeout);
    try {
        const auto r = future.get();
        std::printf("%s\n", nlohmann::json::from_msgpack(r.bytes().begin(), r.bytes().end()).dump().c_str());
        return 0;
    } catch (const rpc_error& e) {
        std::string line = std::string(to_string(e.kind())) + ": ";
        if (e.kind() == rpc_errc::remote) line += "code " + std::to_string(e.code()) + ": ";
        std::fprintf(stderr, "%s%s\n", line.c_str(), e.what());
        return 1;
    } catch (const nlohmann::json::exception& e) {
        std::fprintf(stderr, "decode: the result is not JSON-compatible: %s\n", e.what());
        return 1;
    }
}

// keygen --out DIR/NAME: writes NAME.key (secret, 0600) and NAME.pub into DIR;
// keygen --mesh-secret FILE: writes a fresh mesh secret (0600). Either or both.
int keygen(int argc, char** argv) {
    cli::po::options_description desc("zmesh keygen options");
    desc.add_options()("out", cli::po::value<std::string>(),
                       "DIR/NAME: writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub")(
        "mesh-secret", cli::po::value<std::string>(),
        "FILE: writes a new mesh secret (mode 0600), to share with every member");
    const auto vm = cli::parse(argc, argv, desc,
                               "zmesh keygen --out DIR/NAME | --mesh-secret FILE");
    if (!vm.count("out") && !vm.count("mesh-secret"))
        throw std::invalid_argument("give --out DIR/NAME, --mesh-secret FILE or both");
    if (vm.count("mesh-secret")) write_mesh_secret(vm["mesh-secret"].as<std::string>());
    if (vm.count("out")) {
        const auto pair = generate_keypair();
        write_keypair(pair, vm["out"].as<std::string>());
        std::printf("%s\n", pair.public_key.c_str());   // the public key, to share
    }
    return 0;
}

struct command {
    const char* name;
    int (*run)(int, char**);
    const char* what;
};
const command commands[] = {
    {"pub", pub, "publish JSON as msgpack events"},
    {"sub", sub, "print the events of a topic prefix"},
    {"call", call, "call a method and print its result"},
    {"keygen", keygen, "write a CURVE keypair for a secured mesh"},
};

int usage(std::FILE* to) {
    std::fprintf(to, "usage: zmesh COMMAND [options]   (zmesh COMMAND --help for its options)\n\n");
    for (const auto& c : commands) std::fprintf(to, "  %-6s %s\n", c.name, c.what);
    return to == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
    zmesh::tune_malloc();   // first, before any thread: see <zmesh/tuning.hpp>
    cli::block_signals();
    if (argc < 2) return usage(stderr);
    if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) return usage(stdout);
    for (const auto& c : commands) {
        if (std::strcmp(argv[1], c.name) != 0) continue;
        // "zmesh pub" is the program name its errors carry.
        std::string program = std::string("zmesh ") + c.name;
        std::vector<char*> args{program.data()};
        args.insert(args.end(), argv + 2, argv + argc);
        try {
            return c.run(static_cast<int>(args.size()), args.data());
        } catch (const std::exception& e) {
            return cli::fail(program.c_str(), e.what());
        }
    }
    std::fprintf(stderr, "zmesh: error: unknown command '%s' (see zmesh --help)\n", argv[1]);
    return 2;
}
