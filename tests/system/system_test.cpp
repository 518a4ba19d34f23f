// SPDX-License-Identifier: MPL-2.0
// system: zmesh-node processes find each other, notice deaths and departures, and the
// monitor lists them. Timings are the promises on one host.
#include "system_fixture.hpp"

#include "discovery/beacon_socket.hpp"

#include <csignal>
#include <set>

namespace zmesh::test {
namespace {

using std::chrono::steady_clock;

std::set<std::string> peer_names(const nlohmann::json& doc) {
    std::set<std::string> names;
    for (const auto& p : doc.at("peers")) names.insert(p.at("name").get<std::string>());
    return names;
}

TEST_F(system_fixture, three_nodes_join_within_two_seconds_and_monitor_lists_them) {
    auto& a = spawn_node("a");
    auto& b = spawn_node("b");
    auto& c = spawn_node("c");
    EXPECT_TRUE(sees_joined(a, {"b", "c"}, 2s)) << a.out();
    EXPECT_TRUE(sees_joined(b, {"a", "c"}, 2s)) << b.out();
    EXPECT_TRUE(sees_joined(c, {"a", "b"}, 2s)) << c.out();

    const auto doc = monitor_once();
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(peer_names(doc), (std::set<std::string>{"a", "b", "c"}));
    for (const auto& p : doc["peers"]) {
        EXPECT_EQ(p["state"], "joined");
        EXPECT_EQ(p["id"].get<std::string>().size(), 32u);
        EXPECT_TRUE(p["endpoints"]["pub"].get<std::string>().starts_with("tcp://"));
        EXPECT_TRUE(p["endpoints"]["router"].get<std::string>().starts_with("tcp://"));
        EXPECT_TRUE(p["rtt_us"].is_number_integer());
    }
}

// Noticed from the dropped connection, with or without events from the killed node: a
// subscribes to nothing, so it has no event connection at all, only its link to c.
TEST_F(system_fixture, kill_9_is_noticed_within_one_second) {
    auto& a = spawn_node("a");
    auto& b = spawn_node("b", {"--subscribe", "x."});
    auto& c = spawn_node("c");
    ASSERT_TRUE(sees_joined(a, {"b", "c"}, 3s));
    ASSERT_TRUE(sees_joined(b, {"a", "c"}, 3s));
    ASSERT_TRUE(sees_joined(c, {"a", "b"}, 3s));
    const auto t0 = steady_clock::now();
    c.signal(SIGKILL);
    EXPECT_TRUE(a.wait_for_line("left c ", 1s)) << a.out();
    EXPECT_TRUE(b.wait_for_line("left c ", 1s)) << b.out();
    std::cout << "kill -9 noticed by both in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count()
              << " ms\n";
    for (auto* p : {&a, &b}) {
        p->signal(SIGTERM);
        ASSERT_EQ(p->wait(5s), std::optional<int>(0)) << p->err();
    }
    const auto as = exit_stats(a), bs = exit_stats(b);
    EXPECT_GE(as.value("link_disconnects", 0), 1) << as.dump();
    EXPECT_EQ(as.value("sub_disconnects", -1), 0) << "a has event connections: " << as.dump();
    EXPECT_GE(bs.value("link_disconnects", 0), 1) << bs.dump();
}

TEST_F(system_fixture, stopped_process_expires_within_the_expire_timeout) {
    auto [a_ptr, c_ptr] = joined_pair("1500");
    ASSERT_TRUE(a_ptr && c_ptr);
    auto& a = *a_ptr;
    auto& c = *c_ptr;
    const auto t0 = steady_clock::now();
    c.signal(SIGSTOP);
    EXPECT_TRUE(a.wait_for_line("evasive c ", 1500ms)) << a.out();
    ASSERT_TRUE(a.wait_for_line("left c ", 1650ms)) << a.out();   // expire + 10%
    const auto took = steady_clock::now() - t0;
    EXPECT_GT(took, 1000ms) << "declared left before it could have expired";
    EXPECT_EQ(a.count_lines("left c "), 1u);
    c.signal(SIGCONT);
}

TEST_F(system_fixture, process_stopped_past_evasive_recovers_on_sigcont_and_comes_back_after_expiry) {
    auto [a_ptr, c_ptr] = joined_pair("3000");
    ASSERT_TRUE(a_ptr && c_ptr);
    auto& a = *a_ptr;
    auto& c = *c_ptr;
    // Stopped longer than evasive, shorter than expire: evasive, then recovered, not left.
    c.signal(SIGSTOP);
    ASSERT_TRUE(a.wait_for_line("evasive c ", 2s)) << a.out();
    c.signal(SIGCONT);
    EXPECT_TRUE(a.wait_for_line("recovered c ", 3s)) << a.out();
    EXPECT_EQ(a.count_lines("left c "), 0u) << a.out();
    // Stopped past expire: left; after SIGCONT it is met again as the same node.
    c.signal(SIGSTOP);
    ASSERT_TRUE(a.wait_for_line("left c ", 5s)) << a.out();
    c.signal(SIGCONT);
    EXPECT_TRUE(wait_until([&] { return a.count_lines("joined c ") == 2; }, 10s)) << a.out();
    EXPECT_TRUE(wait_until([&] { return c.count_lines("joined a ") >= 1 && a.count_lines("left c ") == 1; }, 5s));
    // One c in a's table again, joined: the monitor sees both, each once.
    const auto doc = monitor_once(5.0);
    ASSERT_TRUE(doc.is_object());
    std::vector<std::string> names;
    for (const auto& p : doc["peers"]) names.push_back(p.value("name", ""));
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"a", "c"}));
}

TEST_F(system_fixture, node_killed_mid_handshake_leaves_no_trace_and_the_next_one_joins) {
    // The same timings with units (read as 1500 and 500 ms, b expires from a's table in time).
    auto& a = spawn_node("a", {"--expire", "1.5s", "--evasive", "500ms"});
    ASSERT_TRUE(a.wait_for_line("started ", 5s)) << a.err();
    // b is killed the moment it is up: its beacon and HELLO are out, its answers never come.
    auto& b = spawn_node("b", {"--expire", "1500", "--evasive", "500"});
    ASSERT_TRUE(b.wait_for_line("started ", 5s)) << b.err();
    b.signal(SIGKILL);
    spawn_node("c", {"--expire", "1500", "--evasive", "500"});
    ASSERT_TRUE(sees_joined(a, {"c"}, 3s)) << a.out();
    // Whether b got as far as joined or not, a ends with c alone: no half-open entry for b.
    EXPECT_TRUE(wait_until([&] {
        return a.count_lines("joined b ") == a.count_lines("left b ");
    }, 5s)) << a.out();
    // a's counters on exit: every member it took in, b included if it got that far, has
    // left but c.
    a.signal(SIGTERM);
    ASSERT_EQ(a.wait(5s), std::optional<int>(0)) << a.err();
    const auto stats = exit_stats(a);
    ASSERT_TRUE(stats.is_object()) << a.out();
    EXPECT_EQ(stats.value("peers_joined", 0) - stats.value("peers_left", 0), 1) << stats.dump();
}

TEST_F(system_fixture, sigterm_sends_leave_seen_within_half_a_second) {
    auto& a = spawn_node("a");
    auto& b = spawn_node("b");
    ASSERT_TRUE(sees_joined(a, {"b"}, 3s));
    ASSERT_TRUE(sees_joined(b, {"a"}, 3s));
    b.signal(SIGTERM);
    EXPECT_TRUE(wait_until([&] {
        for (const auto& l : a.out_lines())
            if (l.starts_with("left b ") && l.ends_with(" leave")) return true;
        return false;
    }, 500ms)) << a.out();
    EXPECT_EQ(b.wait(5s), std::optional<int>(0));
    EXPECT_TRUE(b.out().find("\nstats {") != std::string::npos);
}

TEST_F(system_fixture, thirty_two_nodes_started_at_once_all_see_each_other) {
    constexpr int count = 32;
    std::vector<process*> nodes;
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i) names.push_back("n" + std::to_string(i));
    const auto t0 = steady_clock::now();
    for (const auto& n : names) nodes.push_back(&spawn_node(n));
    const bool converged = wait_until([&] {
        for (auto* p : nodes)
            if (p->count_lines("joined ") < count - 1) return false;
        return true;
    }, 15s, 50ms);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0);
    std::cout << count << " node processes converged in " << ms.count() << " ms (with start)\n";
    EXPECT_TRUE(converged);
    const auto doc = monitor_once(10.0);
    EXPECT_EQ(doc["peers"].size(), static_cast<std::size_t>(count));
}

TEST_F(system_fixture, node_on_another_mesh_is_never_listed) {
    auto& a = spawn_node("a");
    auto& b = spawn_node("b");
    auto& x = spawn_node("x", {}, mesh_ + "-other");
    ASSERT_TRUE(sees_joined(a, {"b"}, 3s));
    const auto doc = monitor_once();
    EXPECT_EQ(peer_names(doc), (std::set<std::string>{"a", "b"}));
    EXPECT_EQ(a.count_lines("joined x "), 0u);
    EXPECT_EQ(b.count_lines("joined x "), 0u);
    EXPECT_EQ(x.count_lines("joined "), 0u);
}

TEST_F(system_fixture, garbage_datagrams_are_counted_and_nodes_keep_working) {
    auto& a = spawn_node("a");
    auto& b = spawn_node("b");
    ASSERT_TRUE(sees_joined(a, {"b"}, 3s));
    discovery::beacon_socket sender(beacon_port_, {{"lo", "127.0.0.1", true, true, true}});
    for (int i = 0; i < 50; ++i) {
        std::vector<std::uint8_t> junk(1 + i * 13 % 700, static_cast<std::uint8_t>(i));
        sender.send(junk);
    }
    auto& c = spawn_node("c");
    EXPECT_TRUE(sees_joined(a, {"c"}, 3s));
    EXPECT_TRUE(sees_joined(c, {"a", "b"}, 3s));
    a.signal(SIGTERM);
    ASSERT_EQ(a.wait(5s), std::optional<int>(0));
    const auto stats = exit_stats(a);
    ASSERT_TRUE(stats.is_object()) << a.out();
    EXPECT_GE(stats["beacons_invalid"].get<int>(), 40);
    EXPECT_TRUE(b.running());
}

TEST_F(system_fixture, one_seed_is_enough_without_beacons) {
    const auto port = free_port();
    const std::string seed = "tcp://127.0.0.1:" + std::to_string(port);
    auto& s = spawn_node("seed", {"--beacon-interval", "0", "--router-port", std::to_string(port)});
    auto& x = spawn_node("x", {"--beacon-interval", "0", "--seed", seed});
    auto& y = spawn_node("y", {"--beacon-interval", "0", "--seed", seed});
    EXPECT_TRUE(sees_joined(s, {"x", "y"}, 3s)) << s.out();
    EXPECT_TRUE(sees_joined(x, {"seed", "y"}, 3s)) << x.out();
    EXPECT_TRUE(sees_joined(y, {"seed", "x"}, 3s)) << y.out();
}

}  // namespace
}  // namespace zmesh::test
