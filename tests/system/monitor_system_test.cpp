// SPDX-License-Identifier: MPL-2.0
// monitor: --watch --json prints one JSON document per second with per-peer rates and stops
// cleanly on SIGTERM; the live table, when stdout is not a terminal, prints plain frames
// (no escape codes) with rates and recent topics; a frame fits the terminal it is drawn for.
#include "system_fixture.hpp"

#include "tools/monitor_view.hpp"

#include <csignal>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

class monitor_system : public system_fixture {
protected:
    process& spawn_monitor(std::vector<std::string> extra) {
        std::vector<std::string> args = {"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_)};
        args.insert(args.end(), extra.begin(), extra.end());
        procs_.push_back(std::make_unique<process>(tool("zmesh-monitor"), args));
        return *procs_.back();
    }
};

TEST_F(monitor_system, watch_json_prints_a_document_per_second_with_rates_until_sigterm) {
    spawn_node("pub", {"--publish", "t.x", "--rate", "50"});
    spawn_node("sub", {"--subscribe", "t."});
    auto& m = spawn_monitor({"--watch", "--json"});
    // Rates need two reports of a peer: wait for a line where the publisher's is known.
    nlohmann::json last;
    EXPECT_TRUE(wait_until([&] {
        for (const auto& line : m.out_lines()) {
            last = nlohmann::json::parse(line, nullptr, false);
            if (last.is_discarded()) return false;
            for (const auto& p : last["peers"])
                if (p.value("name", "") == "pub" && p["rates"]["events_out_per_s"].is_number() &&
                    p["rates"]["events_out_per_s"].get<double>() > 10)
                    return true;
        }
        return false;
    }, 15s)) << m.out();
    EXPECT_GE(m.out_lines().size(), 2u);
    m.signal(SIGTERM);
    EXPECT_EQ(m.wait(5s), std::optional<int>(0)) << m.err();
}

TEST_F(monitor_system, live_table_into_a_pipe_prints_plain_frames_with_rates_and_topics) {
    spawn_node("pub", {"--publish", "orders.created", "--rate", "20", "--serve", "echo"});
    auto& m = spawn_monitor({});
    EXPECT_TRUE(wait_until([&] { return m.out().find("orders.created") != std::string::npos; }, 15s)) << m.out();
    EXPECT_TRUE(wait_until([&] { return m.count_lines("pub ") > 0; }, 5s)) << m.out();
    m.signal(SIGTERM);
    EXPECT_EQ(m.wait(5s), std::optional<int>(0)) << m.err();
    EXPECT_EQ(m.out().find('\x1b'), std::string::npos) << "escape codes in a pipe";
    EXPECT_NE(m.out().find("EV_OUT/s"), std::string::npos);
    EXPECT_NE(m.out().find("echo"), std::string::npos) << "served methods missing";
}

TEST(monitor_view, frame_fits_the_terminal_and_rates_come_from_successive_reports) {
    peer_info p;
    p.name = std::string(40, 'n');
    p.state = peer_state::joined;
    p.services = {"a.very.long.method.name.indeed"};
    monitor::rate_tracker tracker;
    const auto t0 = monitor::clock_type::now();
    p.reported = {{"events_out", 100}, {"events_in", 0}, {"rpc_calls", 0}, {"rpc_served", 10},
                  {"rpc_failed", 0}, {"rpc_refused", 0}};
    EXPECT_LT(tracker.update(p, t0).events_out, 0) << "one report gives no rate";
    p.reported = {{"events_out", 300}, {"events_in", 0}, {"rpc_calls", 0}, {"rpc_served", 30},
                  {"rpc_failed", 1}, {"rpc_refused", 1}};
    const auto r = tracker.update(p, t0 + 2s);
    EXPECT_DOUBLE_EQ(r.events_out, 100.0);
    EXPECT_DOUBLE_EQ(r.rpc_calls, 10.0);
    EXPECT_DOUBLE_EQ(r.rpc_errors, 1.0);
    const std::vector<peer_info> peers(10, p);
    const std::vector<monitor::peer_rates> rates(10, r);
    const auto frame = monitor::render("lab", peers, rates, {}, t0, 50, 8, true);
    EXPECT_EQ(frame.rfind("\x1b[H", 0), 0u) << "redraws from the top";
    std::size_t lines = 0, start = 3;
    for (std::size_t nl; (nl = frame.find('\n', start)) != std::string::npos; start = nl + 1, ++lines) {
        const auto line = frame.substr(start, nl - start);
        const auto text = line.substr(0, line.find("\x1b[K"));
        EXPECT_LE(text.size(), 50u) << text;
    }
    EXPECT_EQ(lines, 8u) << "cut to the terminal's rows";
}

}  // namespace
}  // namespace zmesh::test
