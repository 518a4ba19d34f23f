// SPDX-License-Identifier: MPL-2.0
// monitor_view: the monitor shows every counter a member reported, adds up its RPC calls and
// failures from the counters themselves, and draws a frame that fits the terminal.
#include "support/distinct_stats.hpp"
#include "tools/monitor_view.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

TEST(monitor_view, json_shows_every_counter_a_member_reported) {
    peer_info p;
    EXPECT_TRUE(monitor::counters_json(p).is_null()) << "nothing reported yet";
    p.reported = counters_of(distinct_stats());   // as a STATS from a node carries them
    nlohmann::json want = nlohmann::json::object();
    for (const auto& [name, value] : distinct_pairs()) want[name] = value;
    EXPECT_EQ(monitor::counters_json(p), want);
}

TEST(monitor_view, a_name_two_members_hold_is_shown_not_merged) {
    peer_info b1, b2, a, watcher;
    b1.name = b2.name = "b";
    b1.id = node_id::random();
    b2.id = node_id::random();
    a.name = "a";
    watcher.name = "b";   // an observer is no member: it shares nothing
    watcher.observer = true;
    EXPECT_EQ(monitor::shared_names({a, b1, watcher}), std::vector<std::string>{});
    const std::vector<peer_info> both{a, b1, b2, watcher};
    EXPECT_EQ(monitor::shared_names(both), std::vector<std::string>{"b"});
    const auto frame = monitor::render("lab", both, {}, {}, monitor::clock_type::now(), 0, 0, false);
    EXPECT_NE(frame.find("several members are named 'b'"), std::string::npos) << frame;
    EXPECT_NE(frame.find(b1.id.short_hex()), std::string::npos);
    EXPECT_NE(frame.find(b2.id.short_hex()), std::string::npos);
}

TEST(monitor_view, error_rate_adds_up_failed_calls_and_refused_requests) {
    peer_info p;
    monitor::rate_tracker tracker;
    const auto t0 = monitor::clock_type::now();
    node_stats s;
    p.reported = counters_of(s);
    (void)tracker.update(p, t0);
    // Over 2 s: one of each way a call fails or a request is refused, and some that are not
    // errors at all.
    s.rpc_remote_errors = s.rpc_timeouts = s.rpc_peer_lost = s.rpc_no_provider = 1;
    s.rpc_unknown_method = s.rpc_bad_requests = s.rpc_busy = s.rpc_expired = 1;
    s.rpc_calls = 10;
    s.rpc_ok = 6;
    s.rpc_served = 4;
    p.reported = counters_of(s);
    const auto r = tracker.update(p, t0 + 2s);
    EXPECT_DOUBLE_EQ(r.rpc_errors, 4.0);
    EXPECT_DOUBLE_EQ(r.rpc_calls, 7.0);
    // A member that reports none of them (another implementation) has no rate.
    p.reported = {{"events_out", 1}};
    monitor::rate_tracker other;
    (void)other.update(p, t0);
    p.reported = {{"events_out", 3}};
    EXPECT_LT(other.update(p, t0 + 2s).rpc_errors, 0);
}

TEST(monitor_view, frame_fits_the_terminal_and_shows_rates_and_gaps_from_successive_reports) {
    peer_info p;
    p.name = std::string(40, 'n');
    p.state = peer_state::joined;
    p.services = {"a.very.long.method.name.indeed"};
    monitor::rate_tracker tracker;
    const auto t0 = monitor::clock_type::now();
    p.reported = {{"events_out", 100}, {"events_gaps", 0}};
    EXPECT_LT(tracker.update(p, t0).events_out, 0) << "one report gives no rate";
    p.reported = {{"events_out", 300}, {"events_gaps", 7}};
    const auto r = tracker.update(p, t0 + 2s);
    EXPECT_DOUBLE_EQ(r.events_out, 100.0);
    const auto row = monitor::render("lab", {p}, {r}, {}, t0, 0, 0, false);
    EXPECT_NE(row.find("      7 "), std::string::npos) << "GAPS shows events_gaps:\n" << row;
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
