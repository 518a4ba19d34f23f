// SPDX-License-Identifier: MPL-2.0
// zmesh-monitor: watches a mesh as a passive observer (it sends no beacons and is never
// counted as a member). Live mode redraws a table of peers (rates, RPC, services) and the
// most recent topics every second, sized to the terminal, until 'q' or Ctrl-C; with --once
// it prints the mesh once it is stable and exits; with --json (or --watch --json) one JSON
// document per second, one per line.
#include "cli.hpp"
#include "mesh_view.hpp"
#include "monitor_view.hpp"
#include "web_view.hpp"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

namespace {

using namespace zmesh;
using clock_type = std::chrono::steady_clock;

const char* const about =
    "Watches the mesh as an observer (no beacons; never counted as a member). Live: a table of\n"
    "members (rates, RPC, services, subscriptions) and recent topics, redrawn every second ('q'\n"
    "quits, in a terminal); --json: one JSON document a line, every second, the first once the\n"
    "mesh is stable and every member's rates are known; --once: one table or document, then exit.\n"
    "Exit: 0 done, 'q' or SIGTERM; 130 SIGINT (Ctrl-C); 1 a bad value; 2 bad flags.";

// The terminal while the live view runs: keys without Enter or echo, restored on every exit
// (the destructor runs on 'q', on SIGINT/SIGTERM and on errors alike).
class raw_terminal {
public:
    raw_terminal() {
        if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios raw = saved_;
        raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    ~raw_terminal() {
        if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    raw_terminal(const raw_terminal&) = delete;
    raw_terminal& operator=(const raw_terminal&) = delete;
    // Returns: true when 'q' was typed (reads what is waiting, never blocks).
    bool active() const noexcept { return active_; }
    bool quit_typed() const {
        if (!active_) return false;
        char c;
        while (::read(STDIN_FILENO, &c, 1) == 1)
            if (c == 'q' || c == 'Q') return true;
        return false;
    }

private:
    termios saved_{};
    bool active_ = false;
};

// Returns: the terminal's size, or 0 x 0 when stdout is not one.
std::pair<int, int> terminal_size() {
    winsize w{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) != 0) return {0, 0};
    return {w.ws_col, w.ws_row};
}

// Returns: once the view has settled and every member has rates (or `wait` passed): 0; the
// signal when one came first. Feeds `tracker` meanwhile.
int await_rates(const node& n, const options& o, monitor::rate_tracker& tracker, std::chrono::milliseconds wait) {
    const auto start = clock_type::now();
    cli::settle_tracker view(cli::settle_rules_for(o), start);
    while (clock_type::now() - start < wait) {
        const auto now = clock_type::now();
        const bool settled = view.update(n.peers(), now);
        bool rates_known = true;
        for (const auto& p : monitor::members(n)) rates_known &= tracker.update(p, now).events_out >= 0;
        if (settled && rates_known) return 0;
        if (const int sig = cli::wait_for_signal(std::chrono::milliseconds(50))) return sig;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    zmesh::tune_malloc();   // first, before any thread: see <zmesh/tuning.hpp>
    cli::block_signals();
    cli::po::options_description own("zmesh-monitor options");
    // clang-format off
    own.add_options()
        ("once", "print the mesh once and exit (after it is stable or --wait passed)")
        ("json", "print JSON instead of a table (live: one document per line, every second)")
        ("watch", "keep printing every second until stopped (the default without --once)")
        ("wait", cli::po::value<std::string>()->default_value("5"), "the most seconds to wait for a stable mesh (--once), or for every member's rates before the first --json line; or with a unit (500ms)")
        ("http", cli::po::value<std::string>(), "HOST:PORT: also serve /metrics (Prometheus), /mesh.json and a live page of the mesh at /");
    // clang-format on
    const auto vm = cli::parse(argc, argv,
                               {"zmesh-monitor", "zmesh-monitor --mesh MESH [--once | --watch] [--json] [--wait S] [--http HOST:PORT]",
                                about, {}, true, "warn"},
                               own).vm;

    try {
        auto o = cli::node_options(vm);
        o.observer = true;
        o.stats_poll = std::chrono::milliseconds(1000);   // members report their counters
        if (!vm.count("name")) o.name = "monitor";
        const auto wait = cli::duration_flag(vm, "wait", std::chrono::milliseconds(1000));
        node n(o);
        n.start();

        if (vm.count("once") && vm.count("watch")) throw std::invalid_argument("--once or --watch, not both");
        if (vm.count("once") && vm.count("http")) throw std::invalid_argument("--http serves a live view: not with --once");
        if (vm.count("once")) {
            // Stable: the view has settled (every member beaconed once or was named by one that
            // answered, no handshake in flight, the table quiet) and every member has reported
            // its counters.
            const auto start = clock_type::now();
            cli::settle_tracker view(cli::settle_rules_for(o), start);
            monitor::stream_poll streams(wait);   // asked once, when the view has settled
            bool asked = false;
            while (clock_type::now() < start + wait) {
                if (const int sig = cli::wait_for_signal(std::chrono::milliseconds(50))) {
                    n.stop();
                    return cli::interrupted_status(sig);
                }
                const auto all = n.peers();
                const bool settled = view.update(all, clock_type::now());
                const bool reported = std::none_of(all.begin(), all.end(), [](const auto& p) {
                    return !p.observer && p.state == peer_state::joined && p.reported.empty();
                });
                if (settled && reported) {
                    // Then the streams of the members, answered within what is left of --wait.
                    streams.poll(n, monitor::members(n), clock_type::now());
                    if (asked && streams.answered_all()) break;
                    asked = true;
                }
            }
            const auto peers = monitor::members(n);
            const auto rows = streams.rows();
            if (vm.count("json"))
                std::cout << monitor::document(n.config().mesh, peers, nullptr, &rows).dump() << std::endl;
            else
                std::cout << monitor::render(n.config().mesh, peers, {}, {}, clock_type::now(), 0, 0, false, false,
                                             false, &rows);
            n.stop();
            return 0;
        }
        // Live. The table also lists recent topics: only then does the monitor take events.
        const bool json = vm.count("json") > 0;
        const bool ansi = !json && ::isatty(STDOUT_FILENO);   // a pipe gets plain frames
        monitor::topic_log topics;   // before the node stops: its handler writes here
        std::unique_ptr<monitor::web_view> web;
        if (vm.count("http")) {
            web = std::make_unique<monitor::web_view>(n, vm["http"].as<std::string>());
            std::cerr << "zmesh-monitor: serving http://" << vm["http"].as<std::string>().substr(0, vm["http"].as<std::string>().rfind(':'))
                      << ":" << web->port() << "/ (and /metrics, /mesh.json)" << std::endl;
        }
        if (!json || web)
            n.subscribe("", [&topics, &web, json](const event& e) {
                if (!json) topics.add(e.topic(), clock_type::now());
                if (web) web->seen(e);
            });
        monitor::rate_tracker tracker;
        // The members' streams, asked every 5 s (answers are taken as they come, never waited for).
        monitor::stream_poll streams;
        raw_terminal keys;
        int stopped_by = 0;
        // A document is a promise about the mesh: the first waits (up to --wait) until the
        // view has settled and every member's rates are known (two reports of its counters).
        if (json) stopped_by = await_rates(n, o, tracker, wait);
        bool quit = stopped_by != 0;
        while (!quit) {
            const auto peers = monitor::members(n);
            const auto now = clock_type::now();
            std::vector<monitor::peer_rates> rates;
            for (const auto& p : peers) rates.push_back(tracker.update(p, now));
            streams.poll(n, peers, now);
            const auto stream_rows = streams.rows();
            if (json) {
                std::cout << monitor::document(n.config().mesh, peers, &rates, &stream_rows).dump() << std::endl;
            } else {
                const auto [cols, rows] = terminal_size();   // asked each frame: resizes just work
                const auto recent = topics.recent(rows > 0 ? static_cast<std::size_t>(std::max(rows - 6 - static_cast<int>(peers.size()), 1)) : 10);
                std::cout << monitor::render(n.config().mesh, peers, rates, recent, now, cols, rows, ansi, true,
                                             keys.active(), &stream_rows)
                          << std::flush;
                if (!ansi) std::cout << std::endl;   // frames apart in a log
            }
            for (int slice = 0; slice < 10 && !quit; ++slice) {   // 1 s, watching keys and signals
                stopped_by = cli::wait_for_signal(std::chrono::milliseconds(100));
                quit = stopped_by != 0 || keys.quit_typed();
            }
        }
        if (web) web->close();   // its HTTP threads ask the node: before it stops
        n.stop();
        // 'q' and SIGTERM (a supervisor's stop) are the ways to end it; Ctrl-C interrupts.
        return stopped_by == SIGINT ? cli::interrupted_status(SIGINT) : 0;
    } catch (const std::exception& e) {
        return cli::fail("zmesh-monitor", e.what());
    }
}
