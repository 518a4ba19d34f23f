// SPDX-License-Identifier: MPL-2.0
// zmesh-node: one mesh member as a process. Prints each peer event as one line on stdout:
//   EVENT NAME ID [REASON]      e.g. "joined orders 3f2a...", "left orders 3f2a... leave"
// with --subscribe PREFIX each event received as "event {JSON}", and on exit a line
// "stats {JSON}". --publish TOPIC --rate HZ publishes {"n": 1, 2, ..., "from": NAME}.
// With --data-dir DIR and --stream NAME=PREFIX it publishes a durable stream: a --publish
// topic a stream takes is stored (publish_stored), n goes on after the stream's last stored
// sequence when the node restarts on DIR, and "stored N" (this run's) comes before "stats".
// Exits 0 on SIGINT/SIGTERM after sending LEAVE.
#include "cli.hpp"

#include <cstdio>
#include <deque>
#include <future>
#include <iostream>
#include <thread>

namespace {
using namespace zmesh;

const char* const about =
    "One mesh member as a process. Prints \"started NAME ID mesh=... pub=... router=...\", then each\n"
    "peer event as a line (joined NAME ID, evasive, recovered, left NAME ID REASON; observers'\n"
    "only with --show-observers), \"event {JSON}\" per event received with --subscribe, and on\n"
    "exit \"stats {JSON}\": every counter. --publish sends {\"n\": 1, 2, ..., \"from\": NAME}, --count\n"
    "of them at most. With --data-dir, each --stream NAME=PREFIX is declared at start, and a\n"
    "--publish topic a stream takes is stored before n moves on; on a restart on the same\n"
    "directory n goes on after the stream's last stored sequence (so n is the sequence), and\n"
    "\"stored N\" (stored by this run) comes before \"stats\" on exit. --keys K stores each with\n"
    "the key \"k<n mod K>\", for consumers ordered by key. Members may list its streams and dead\n"
    "letters (zmesh stream ls, zmesh dlq ls); --stream-admin lets them change them too.\n"
    "Exit: 0 on SIGINT/SIGTERM, after telling its peers it is leaving; 1 a bad value or a failed\n"
    "store; 2 bad flags (--stream, --durability or --stream-admin without --data-dir).";

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

// Returns: the streams of --stream NAME=PREFIX flags. Throws std::invalid_argument for one
// without '=' or without a name.
std::vector<stream_config> stream_flags(const std::vector<std::string>& flags) {
    std::vector<stream_config> out;
    for (const auto& f : flags) {
        const auto eq = f.find('=');
        if (eq == std::string::npos || eq == 0)
            throw std::invalid_argument("--stream takes NAME=PREFIX, not '" + f + "'");
        out.emplace_back(f.substr(0, eq), f.substr(eq + 1));
    }
    return out;
}

// Returns: the first n of --publish: 1, or after the last stored sequence of the streams that
// take `topic`, so that a publisher restarted on its directory goes on with its count.
std::uint64_t first_count(const std::vector<stream_info>& streams, const std::string& topic, bool& stored) {
    std::uint64_t first = 1;
    stored = false;
    for (const auto& s : streams)
        if (!s.config.prefix.empty() && topic.starts_with(s.config.prefix)) {
            stored = true;
            first = std::max(first, s.last_seq + 1);
        }
    return first;
}

// The stored publishes of --publish in the order made, each counted once it is on disk.
class stored_publishes {
public:
    void add(std::future<void> f) { pending_.push_back(std::move(f)); }
    // Counts those that are done, in order; with `all`, waits for every one.
    void reap(bool all) {
        while (!pending_.empty() &&
               (all || pending_.front().wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
            try {
                pending_.front().get();
                ++stored_;
            } catch (const std::exception& e) {
                ++failed_;
                std::fprintf(stderr, "zmesh-node: error: a stored publish failed: %s\n", e.what());
            }
            pending_.pop_front();
        }
    }
    std::uint64_t stored() const noexcept { return stored_; }
    std::uint64_t failed() const noexcept { return failed_; }

private:
    std::deque<std::future<void>> pending_;
    std::uint64_t stored_ = 0, failed_ = 0;
};

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
        ("count", cli::po::value<std::uint64_t>()->default_value(0), "stop publishing after n reaches this (0: never); the node stays")
        ("data-dir", cli::po::value<std::string>(), "directory of the durable streams' log and of this node's id (same id on restart)")
        ("durability", cli::po::value<std::string>(), "what a stored message survives: os (kill -9, the default) or fsync (power loss)")
        ("stream", cli::po::value<std::vector<std::string>>()->composing(), "NAME=PREFIX: declare a stream taking the topics starting with PREFIX (repeatable; needs --data-dir)")
        ("keys", cli::po::value<std::uint64_t>()->default_value(0), "store each --publish with the key k<n mod K> (0: no key)")
        ("gossip", "membership by gossip: members probe each other over UDP at their ROUTER's port, with no heartbeat on every link (PROTOCOL.md §16; docs/scale.md)")
        ("link-everyone-below", cli::po::value<std::size_t>()->default_value(options{}.link_everyone_below), "with --gossip: link every member while knowing fewer than this; past it, only those called or whose events are taken (PROTOCOL.md §16.5)")
        ("idle-link", cli::po::value<std::string>()->default_value(std::to_string(options{}.idle_link.count())), "with --gossip, past --link-everyone-below: ms (or with a unit: 60s) after which a link that carried nothing is closed; 0: never")
        ("metrics", cli::po::value<std::string>(), "HOST:PORT: serve this node's counters and its peers' figures at http://HOST:PORT/metrics for Prometheus (PORT 0: any free one, shown on the started line)")
        ("stream-admin", "let members add and remove this node's streams, publish into them and requeue dead letters (zmesh stream, zmesh dlq; needs --data-dir)")
        ("handler-delay", cli::po::value<std::string>()->default_value("0"), "ms each --subscribe handler sleeps, or with a unit (0.1s): try a slow consumer")
        ("show-observers", "also print the peer events of observers (monitors, zmesh call/pub/ls/check)");
    // clang-format on
    const cli::command_spec spec{"zmesh-node", "zmesh-node [--name NAME] [--mesh MESH] [options]", about, {}};
    const auto vm = cli::parse(argc, argv, spec, own).vm;
    for (const char* flag : {"stream", "durability", "stream-admin"})
        if (vm.count(flag) && !vm.count("data-dir")) {
            std::fprintf(stderr, "zmesh-node: error: --%s needs --data-dir DIR (usage: %s; see --help)\n", flag,
                         spec.usage.c_str());
            return 2;
        }

    try {
        auto o = cli::node_options(vm);
        if (vm.count("data-dir")) o.data_dir = vm["data-dir"].as<std::string>();
        o.stream_admin = vm.count("stream-admin") > 0;
        if (vm.count("metrics")) o.metrics_endpoint = vm["metrics"].as<std::string>();
        o.gossip = vm.count("gossip") > 0;
        o.link_everyone_below = vm["link-everyone-below"].as<std::size_t>();
        o.idle_link = cli::duration_flag(vm, "idle-link", std::chrono::milliseconds(1));
        // Said from the start: past --link-everyone-below, subscribers link it before its first event.
        if (vm.count("publish")) o.publishes = {vm["publish"].as<std::string>()};
        if (vm.count("durability")) {
            const auto mode = vm["durability"].as<std::string>();
            if (mode != "os" && mode != "fsync") throw std::invalid_argument("--durability is os or fsync, not '" + mode + "'");
            o.stream_durability = mode == "fsync" ? durability::fsync : durability::os;
        }
        const auto streams = stream_flags(vm.count("stream") ? vm["stream"].as<std::vector<std::string>>()
                                                             : std::vector<std::string>{});
        node n(o);
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
        const auto count = vm["count"].as<std::uint64_t>();
        const auto keys = vm["keys"].as<std::uint64_t>();
        n.start();
        for (const auto& s : streams) n.declare_stream(s);
        bool stored = false;
        const auto first = first_count(n.streams(), topic, stored);
        stored_publishes pending;
        std::string metrics;
        if (n.metrics_port() != 0) {
            const auto& endpoint = o.metrics_endpoint;
            metrics = " metrics=http://" + endpoint.substr(0, endpoint.rfind(':') + 1) +
                      std::to_string(n.metrics_port()) + "/metrics";
        }
        std::printf("started %s %s mesh=%s pub=%s router=%s%s\n", n.name().c_str(),
                    n.id().hex().c_str(), n.config().mesh.c_str(), n.pub_endpoint().c_str(),
                    n.router_endpoint().c_str(), metrics.c_str());
        std::fflush(stdout);
        const auto period = std::chrono::duration<double>(1.0 / rate);
        auto next = std::chrono::steady_clock::now();
        for (std::uint64_t i = first;; ++i) {
            if (!topic.empty() && (count == 0 || i <= count)) {
                if (stored)
                    pending.add(n.publish_stored(topic, keys ? "k" + std::to_string(i % keys) : std::string(),
                                                 counter{i, n.name()}));
                else
                    n.publish(topic, counter{i, n.name()});
                next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
            } else {
                next += std::chrono::seconds(1);
            }
            const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                next - std::chrono::steady_clock::now());
            pending.reap(false);
            if (cli::wait_for_signal(std::max(wait, std::chrono::milliseconds(0)))) break;
        }
        const auto stats = n.stats();
        n.stop();   // what waits to be stored is stored, and its publishes told so
        pending.reap(true);
        if (stored) std::printf("stored %llu\n", static_cast<unsigned long long>(pending.stored()));
        std::printf("stats %s\n", cli::to_json(stats).dump().c_str());
        return pending.failed() > 0 ? 1 : 0;
    } catch (const std::exception& e) {
        return cli::fail("zmesh-node", e.what());
    }
}
