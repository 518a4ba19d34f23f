// SPDX-License-Identifier: MPL-2.0
// discovery: N node processes started at once on this host. Measured: the time from the
// first start until every node sees all the others joined; the idle resident memory of
// each (read --settle seconds later), and the part of it no other process shares
// (libraries' pages are counted in every process's RSS but held once); after one is killed
// with SIGKILL, the time until every survivor saw it leave. With --subscribe every node
// subscribes (so it connects its SUB to every peer's PUB) before it starts.
// Also read over that idle window: the CPU the whole mesh spends (heartbeats, beacons:
// what grows with N) and each node's open descriptors (links and sockets); and, from all
// seeing all until the kill was seen, the members a survivor saw leave that had not: false
// deaths.
// The baseline: N processes that only open a libzmq context and bind a PUB and a ROUTER —
// the floor set by process start and libzmq itself.
#include "bench.hpp"

#include <zmesh/node.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <zmq.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <set>
#include <thread>

namespace zmesh::bench {
namespace {

// "converged <monotonic ns> <CPU µs this process has used so far, all threads>": discovery
// on one host is CPU-bound, so what a node spends to join is the figure that explains the time.
std::string converged_line() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto us = [](const timeval& t) { return std::int64_t{t.tv_sec} * 1000000 + t.tv_usec; };
    return "converged " + std::to_string(now_ns()) + " " + std::to_string(us(u.ru_utime) + us(u.ru_stime));
}

// Returns: the CPU process `pid` has used, all threads, in ms (utime + stime of
// /proc/PID/stat), or 0 if unreadable.
double process_cpu_ms(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto name_end = stat.rfind(')');   // the command name may hold spaces
    if (name_end == std::string::npos) return 0;
    std::istringstream fields(stat.substr(name_end + 2));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    // After the name: state is field 3, utime 14 and stime 15 of proc(5).
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Returns: how many descriptors process `pid` holds open.
double open_fds(pid_t pid) {
    std::error_code ec;
    std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
    double n = 0;
    for (; !ec && it != end; it.increment(ec)) ++n;
    return n;
}

// "missing <count> (<state>=<count>...) <name>=<state>...": the bench's nodes this node does
// not hold as joined, by the state it holds them in ("unknown": not at all), and the first
// few of them by name: why a run did not converge.
std::string missing_line(const node& n, std::size_t nodes) {
    constexpr std::size_t names_shown = 8;
    std::map<std::string, std::string> state_of;
    for (const auto& p : n.peers()) state_of[p.name] = to_string(p.state);
    std::map<std::string, std::size_t> by_state;
    std::string names;
    std::size_t count = 0;
    for (std::size_t i = 0; i < nodes; ++i) {
        const auto name = "bench-node-" + std::to_string(i);
        if (name == n.name()) continue;
        const auto it = state_of.find(name);
        const std::string state = it == state_of.end() ? "unknown" : it->second;
        if (state == "joined") continue;
        ++by_state[state];
        if (count++ < names_shown) names += " " + name + "=" + state;
    }
    std::string line = "missing " + std::to_string(count) + " (";
    for (const auto& [state, k] : by_state) line += (line.back() == '(' ? "" : " ") + state + "=" + std::to_string(k);
    return line + ")" + names + (count > names_shown ? " ..." : "");
}

int zmesh_node(const settings& s) {
    const auto expect = s.get<std::size_t>("nodes") - 1;
    // Declared before the node: its callbacks use them until it is destroyed.
    std::set<node_id> members;   // touched only on the delivery thread
    bool converged = false;
    node n(node_options(s, s.get<std::string>("name")));
    if (s.get<bool>("subscribe")) n.subscribe("bench.", [](const event&) {});   // nothing is published
    n.on_peer_event([&](const peer_event& e) {
        if (e.peer.observer) return;
        if (e.kind == peer_event_kind::joined) members.insert(e.peer.id);
        if (e.kind == peer_event_kind::left) {
            members.erase(e.peer.id);
            say("left " + e.peer.name + " " + std::to_string(now_ns()));
        }
        if (!converged && members.size() == expect) {
            converged = true;
            say(converged_line());
        }
    });
    n.start();
    if (expect == 0) say(converged_line());
    wait_for_stop();
    if (!converged) say(missing_line(n, s.get<std::size_t>("nodes")));
    n.stop();
    return 0;
}

int raw_node(const settings&) {
    zmq::context_t ctx;
    zmq::socket_t pub(ctx, zmq::socket_type::pub), router(ctx, zmq::socket_type::router);
    for (auto* sock : {&pub, &router}) {
        sock->set(zmq::sockopt::linger, 0);
        sock->bind("tcp://127.0.0.1:*");
    }
    say(converged_line());
    wait_for_stop();
    return 0;
}

struct figures {
    double converge_ms = 0;
    double rss_kib_median = 0;
    double rss_kib_max = 0;
    double private_kib_median = 0;
    double cpu_ms_median = 0;
    double idle_cpu_percent = 0;   // the whole mesh, % of one core
    double fds_median = 0;
    double fds_max = 0;
    double kill_noticed_ms = -1;
    double false_left = 0;   // "left" seen of a member that was not killed
};

// After a run that did not converge: stops every node from `all[first]` on, and prints on
// stderr what each that had not converged says it misses.
void report_missing(std::vector<std::unique_ptr<child>>& all, std::size_t first, clock::time_point deadline) {
    for (std::size_t i = first; i < all.size(); ++i) all[i]->close_stdin();
    for (std::size_t i = first; i < all.size(); ++i)
        while (const auto line = all[i]->read_line(deadline)) {
            if (line->rfind("missing ", 0) == 0)
                std::fprintf(stderr, "node %zu (pid %d) did not converge: %s\n", i, static_cast<int>(all[i]->pid()),
                             line->c_str());
        }
}

// Starts `nodes` processes of `role`; waits for each to say "converged"; reads their RSS;
// then, when `kill_one`, SIGKILLs the first and waits for every other to say it left.
figures measure(const settings& s, const std::string& role, std::size_t nodes, bool kill_one) {
    std::vector<std::unique_ptr<child>> all;
    const auto t0 = now_ns();
    for (std::size_t i = 0; i < nodes; ++i) {
        std::vector<std::string> extra = {"--nodes", std::to_string(nodes), "--name",
                                          "bench-node-" + std::to_string(i)};
        if (s.get<bool>("subscribe")) extra.push_back("--subscribe");
        all.push_back(std::make_unique<child>(args_with(s.peer_args(role), extra)));
    }
    const auto deadline = s.deadline();
    std::int64_t last = t0;
    std::vector<double> cpu_ms;
    for (std::size_t i = 0; i < all.size(); ++i) {
        std::string line;
        try {
            line = all[i]->expect("converged", deadline, role + " convergence");
        } catch (const std::runtime_error&) {
            report_missing(all, i, s.deadline());
            throw;
        }
        std::size_t end = 0;
        last = std::max<std::int64_t>(last, std::stoll(line, &end));
        cpu_ms.push_back(static_cast<double>(std::stoll(line.substr(end))) / 1e3);
    }
    figures f;
    f.converge_ms = static_cast<double>(last - t0) / 1e6;
    f.cpu_ms_median = median(cpu_ms);

    // Idle means idle for a while: anything a link carries cycles its libzmq queue through
    // 16 KiB chunks, so memory read at once would miss growth from periodic traffic. The
    // window is at least a second, so that the CPU read over it is not all rounding.
    const auto cpu_of_all = [&] {
        double ms = 0;
        for (auto& c : all) ms += process_cpu_ms(c->pid());
        return ms;
    };
    const auto window = std::chrono::seconds(std::max(1, s.get<int>("settle")));
    const double cpu_before = cpu_of_all();
    const auto window_start = clock::now();
    std::this_thread::sleep_for(window);
    f.idle_cpu_percent = (cpu_of_all() - cpu_before) * 100.0 /
                         std::chrono::duration<double, std::milli>(clock::now() - window_start).count();
    std::vector<double> rss, own, fds;
    for (auto& c : all) {
        rss.push_back(static_cast<double>(rss_kib(c->pid())));
        own.push_back(static_cast<double>(private_kib(c->pid())));
        fds.push_back(open_fds(c->pid()));
    }
    f.fds_median = median(fds);
    f.fds_max = *std::max_element(fds.begin(), fds.end());
    f.rss_kib_median = median(rss);
    f.private_kib_median = median(own);
    f.rss_kib_max = *std::max_element(rss.begin(), rss.end());

    if (kill_one && nodes > 1) {
        const auto kill_deadline = s.deadline();   // a step of its own, after any settling
        const auto killed_at = now_ns();
        all.front()->kill(SIGKILL);
        (void)all.front()->wait(kill_deadline);
        std::int64_t noticed = killed_at;
        for (std::size_t i = 1; i < all.size(); ++i)
            for (;;) {
                const auto line = all[i]->expect("left", kill_deadline, "survivor");
                if (line.rfind("bench-node-0 ", 0) != 0) {
                    ++f.false_left;
                    continue;
                }
                noticed = std::max<std::int64_t>(noticed, std::stoll(line.substr(line.find(' ') + 1)));
                break;
            }
        f.kill_noticed_ms = static_cast<double>(noticed - killed_at) / 1e6;
        all.erase(all.begin());
    }
    stop_all(all, s.deadline());
    return f;
}

}  // namespace

roles discovery_roles() {
    return {{"zmesh-node", zmesh_node}, {"raw-node", raw_node}};
}

int run_discovery(const settings& s) {
    const auto nodes = s.get<std::size_t>("nodes");
    if (nodes < 2) throw std::invalid_argument("--nodes must be at least 2");
    report r("discovery", {{"nodes", nodes}, {"settle_s", s.get<int>("settle")},
                           {"subscribe", s.get<bool>("subscribe")}, {"gossip", s.get<bool>("gossip")}});
    auto& converge = r.at("converge_ms", "all see all (ms)", false);
    auto& cpu = r.at("cpu_ms", "CPU per node until then (ms)", false);
    auto& killed = r.at("kill_noticed_ms", "kill -9 seen by all (ms)", false);
    auto& false_left = r.at("false_left", "false deaths seen (after)", false);
    auto& rss = r.at("rss_kib", "idle RSS per node (KiB)", false);
    auto& rss_max = r.at("rss_kib_max", "idle RSS, largest (KiB)", false);
    auto& own = r.at("private_kib", "idle private mem (KiB)", false);
    auto& idle_cpu = r.at("idle_cpu_percent", "idle CPU, mesh (% of core)", false);
    auto& fds = r.at("fds", "open fds per node", false);
    auto& fds_max = r.at("fds_max", "open fds, largest", false);
    for (int run = 1; run <= s.runs; ++run) {
        const auto z = measure(s, "zmesh-node", nodes, true);
        const auto raw = measure(s, "raw-node", nodes, false);
        converge.zmesh.push_back(z.converge_ms);
        converge.raw.push_back(raw.converge_ms);
        cpu.zmesh.push_back(z.cpu_ms_median);
        cpu.raw.push_back(raw.cpu_ms_median);
        killed.zmesh.push_back(z.kill_noticed_ms);
        false_left.zmesh.push_back(z.false_left);
        rss.zmesh.push_back(z.rss_kib_median);
        rss.raw.push_back(raw.rss_kib_median);
        rss_max.zmesh.push_back(z.rss_kib_max);
        rss_max.raw.push_back(raw.rss_kib_max);
        own.zmesh.push_back(z.private_kib_median);
        own.raw.push_back(raw.private_kib_median);
        idle_cpu.zmesh.push_back(z.idle_cpu_percent);
        idle_cpu.raw.push_back(raw.idle_cpu_percent);
        fds.zmesh.push_back(z.fds_median);
        fds.raw.push_back(raw.fds_median);
        fds_max.zmesh.push_back(z.fds_max);
        fds_max.raw.push_back(raw.fds_max);
        progress("discovery run " + std::to_string(run) + "/" + std::to_string(s.runs) + ": " +
                 std::to_string(nodes) + " nodes converged in " +
                 std::to_string(static_cast<int>(z.converge_ms)) + " ms (processes alone " +
                 std::to_string(static_cast<int>(raw.converge_ms)) + " ms), kill seen in " +
                 std::to_string(static_cast<int>(z.kill_noticed_ms)) + " ms");
    }
    r.print(s.json);
    return 0;
}

}  // namespace zmesh::bench
