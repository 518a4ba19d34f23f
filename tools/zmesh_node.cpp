// SPDX-License-Identifier: MPL-2.0
// zmesh-node: one mesh member as a process. Prints each peer event as one line on stdout:
//   EVENT NAME ID [REASON]      e.g. "joined orders 3f2a...", "left orders 3f2a... leave"
// with --subscribe PREFIX each event received as "event {JSON}", and on exit a line
// "stats {JSON}". --publish TOPIC --rate HZ publishes {"n": 1, 2, ..., "from": NAME}.
// Exits 0 on SIGINT/SIGTERM after sending LEAVE.
#include "cli.hpp"

#include <cstdio>
#include <iostream>
#include <thread>

namespace {
using namespace zmesh;

const char* const about =
    "One mesh member as a process. Prints \"started NAME ID mesh=... pub=... router=...\", then each\n"
    "peer event as a line (joined NAME ID, evasive, recovered, left NAME ID REASON; observers'\n"
    "only with --show-observers), \"event {JSON}\" per event received with --subscribe, and on\n"
    "exit \"stats {JSON}\": every counter. Exit: 0 on SIGINT/SIGTERM, after telling its peers it\n"
    "is leaving; 1 a bad value; 2 bad flags.";

// What --publish sends: a msgpack map {"n": 1, "from": "orders"}.
struct counter {
    std::uint64_t n;
    std::string from;
    MSGPACK_DEFINE_MAP(n, from)
};
struct clock_reading {
    std::uint64_t unix_us;
    std::string node;
    MSGPACK_DEFINE_MAP(unix_us, node)
};

// The built-in methods: "echo" returns its arguments, "time" this host's clock, "stats"
// this node's counters. An echo never blocks: it runs on the reactor, which sends it back in
// the frame it came in (PROTOCOL.md §10.4); "stats" waits on the node, so a worker runs it.
void serve_builtin(node& n, const std::string& method) {
    if (method == "echo") {
        n.serve("echo", [](const request& r) -> response { return r; }, run_on::reactor);
    } else if (method == "time") {
        n.serve("time", [name = n.name()](const request&) -> response {
            const auto now = std::chrono::system_clock::now().time_since_epoch();
            return clock_reading{static_cast<std::uint64_t>(
                                     std::chrono::duration_cast<std::chrono::microseconds>(now).count()),
                                 name};
        });
    } else if (method == "stats") {
        n.serve("stats", [&n](const request&) -> response {
            const auto j = nlohmann::json::to_msgpack(cli::to_json(n.stats()));
            return response(payload(j, nullptr));
        });
    } else {
        throw std::invalid_argument("--serve knows echo, time and stats, not '" + method + "'");
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace zmesh;
    zmesh::tune_malloc();   // first, before any thread: see <zmesh/tuning.hpp>
    cli::block_signals();
    cli::po::options_description own("zmesh-node options");
    // clang-format off
    own.add_options()
        ("subscribe", cli::po::value<std::vector<std::string>>()->composing(), "print events of this topic prefix (repeatable)")
        ("publish", cli::po::value<std::string>(), "publish a counter on this topic")
        ("serve", cli::po::value<std::vector<std::string>>()->composing(), "serve a built-in method: echo, time or stats (repeatable)")
        ("rate", cli::po::value<double>()->default_value(1.0), "events per second for --publish")
        ("handler-delay", cli::po::value<std::string>()->default_value("0"), "ms each --subscribe handler sleeps, or with a unit (0.1s): try a slow consumer")
        ("show-observers", "also print the peer events of observers (monitors, zmesh call/pub/ls/check)");
    // clang-format on
    const auto vm = cli::parse(argc, argv, {"zmesh-node", "zmesh-node [--name NAME] [--mesh MESH] [options]", about, {}}, own).vm;

    try {
        node n(cli::node_options(vm));
        // Observers come and go with every zmesh call: not news about the mesh.
        n.on_peer_event([show_observers = vm.count("show-observers") > 0](const peer_event& e) {
            if (e.peer.observer && !show_observers) return;
            std::string line = std::string(to_string(e.kind)) + " " + e.peer.name + " " +
                               e.peer.id.hex();
            if (e.peer.observer) line += " observer";
            if (e.reason != leave_reason::none) line += " " + std::string(to_string(e.reason));
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
        });
        const auto delay = cli::duration_flag(vm, "handler-delay", std::chrono::milliseconds(1));
        if (delay.count() > 60000) throw std::invalid_argument("--handler-delay is at most 60 s");
        if (vm.count("subscribe"))
            for (const auto& prefix : vm["subscribe"].as<std::vector<std::string>>())
                n.subscribe(prefix, [delay](const event& e) {
                    std::printf("event %s\n", cli::to_json(e).dump().c_str());
                    std::fflush(stdout);
                    if (delay.count() > 0) std::this_thread::sleep_for(delay);
                });
        if (vm.count("serve"))
            for (const auto& m : vm["serve"].as<std::vector<std::string>>()) serve_builtin(n, m);
        const std::string topic = vm.count("publish") ? vm["publish"].as<std::string>() : "";
        const double rate = vm["rate"].as<double>();
        if (!(rate > 0 && rate <= 1e6)) throw std::invalid_argument("--rate must be in (0, 1e6]");
        n.start();
        std::printf("started %s %s mesh=%s pub=%s router=%s\n", n.name().c_str(),
                    n.id().hex().c_str(), n.config().mesh.c_str(), n.pub_endpoint().c_str(),
                    n.router_endpoint().c_str());
        std::fflush(stdout);
        const auto period = std::chrono::duration<double>(1.0 / rate);
        auto next = std::chrono::steady_clock::now();
        for (std::uint64_t i = 1;; ++i) {
            if (!topic.empty()) {
                n.publish(topic, counter{i, n.name()});
                next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
            } else {
                next += std::chrono::seconds(1);
            }
            const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                next - std::chrono::steady_clock::now());
            if (cli::wait_for_signal(std::max(wait, std::chrono::milliseconds(0)))) break;
        }
        const auto stats = n.stats();
        n.stop();
        std::printf("stats %s\n", cli::to_json(stats).dump().c_str());
        return 0;
    } catch (const std::exception& e) {
        return cli::fail("zmesh-node", e.what());
    }
}
