// SPDX-License-Identifier: MPL-2.0
// node: several nodes in one process find each other, track liveness and leave cleanly.
#include "node_fixture.hpp"

#include "discovery/beacon_socket.hpp"

namespace zmesh::test {
namespace {

using names = std::vector<std::string>;

TEST_F(node_fixture, three_nodes_join_each_other_by_beacon) {
    auto& a = start("a");
    auto& b = start("b");
    auto& c = start("c");
    EXPECT_TRUE(wait_until([&] { return joined_names(a) == names{"b", "c"}; }, 2s));
    EXPECT_TRUE(wait_until([&] { return joined_names(b) == names{"a", "c"}; }, 2s));
    EXPECT_TRUE(wait_until([&] { return joined_names(c) == names{"a", "b"}; }, 2s));
    EXPECT_EQ(events(a).count(peer_event_kind::joined, "b"), 1u);
    EXPECT_EQ(events(a).count(peer_event_kind::joined, "c"), 1u);
}

TEST_F(node_fixture, peers_report_endpoints_and_round_trip_time) {
    auto& a = start("a");
    auto& b = start("b");
    ASSERT_TRUE(wait_until([&] {
        const auto peers = a.peers();
        return peers.size() == 1 && peers[0].rtt_us >= 0;
    }, 3s));
    const auto p = a.peers().at(0);
    EXPECT_EQ(p.id, b.id());
    EXPECT_EQ(p.name, "b");
    EXPECT_EQ(p.router_endpoint, b.router_endpoint());
    EXPECT_EQ(p.pub_endpoint, b.pub_endpoint());
    EXPECT_LT(p.rtt_us, 1'000'000);
}

TEST_F(node_fixture, idle_links_carry_no_ping_yet_stay_joined_and_a_used_link_is_measured) {
    // Short timings: libzmq's heartbeats must keep an idle pair joined for many times its
    // evasive timeout, with no PING of ours (each message queued on a link is memory).
    auto fast = [&](const std::string& name) {
        auto o = make_options(name);
        o.liveness.heartbeat = 50ms;
        o.liveness.evasive = 200ms;
        o.liveness.expired = 600ms;
        return o;
    };
    auto& a = start(fast("a"));
    auto& b = start(fast("b"));
    b.serve("echo", [](const request& r) -> response { return r; }, run_on::reactor);
    ASSERT_TRUE(wait_until([&] {
        const auto peers = a.peers();
        return peers.size() == 1 && peers[0].rtt_us >= 0 && peers[0].services.size() == 1;
    }, 3s));
    const auto pings = a.stats().pings_sent;
    EXPECT_GE(pings, 1u);   // the round trip was measured once, on joining
    // 1.5 s: thirty heartbeats, seven evasive timeouts.
    EXPECT_FALSE(wait_until([&] { return a.stats().pings_sent > pings; }, 1500ms))
        << "an idle link was pinged";
    EXPECT_EQ(events(a).count(peer_event_kind::evasive, "b"), 0u);
    EXPECT_EQ(events(b).count(peer_event_kind::evasive, "a"), 0u);
    EXPECT_EQ(joined_names(a), names{"b"});
    EXPECT_EQ(joined_names(b), names{"a"});
    // A call uses the link: the next heartbeat measures its round trip again.
    ASSERT_NO_THROW(a.call("echo", 1, 2s).get());
    EXPECT_TRUE(wait_until([&] { return a.stats().pings_sent > pings; }, 1s));
}

TEST_F(node_fixture, stop_sends_leave_that_peers_see_at_once) {
    auto& a = start("a");
    auto& b = start("b");
    ASSERT_TRUE(wait_until([&] { return joined_names(a) == names{"b"}; }, 2s));
    const auto t0 = std::chrono::steady_clock::now();
    b.stop();
    EXPECT_TRUE(wait_until([&] { return events(a).count(peer_event_kind::left, "b",
                                                        leave_reason::leave) == 1; }, 500ms));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_TRUE(joined_names(a).empty());
}

TEST_F(node_fixture, node_on_another_mesh_is_never_listed) {
    auto& a = start("a");
    auto other = make_options("stranger");
    other.mesh = mesh_ + "-other";
    auto& s = start(other);
    auto& b = start("b");
    ASSERT_TRUE(wait_until([&] { return joined_names(b) == names{"a"}; }, 2s));
    ASSERT_TRUE(wait_until([&] { return joined_names(a) == names{"b"}; }, 2s));
    // Give the stranger several beacon intervals to sneak in.
    EXPECT_TRUE(wait_until([&] { return a.stats().beacons_foreign_mesh >= 2; }, 3s));
    EXPECT_EQ(joined_names(a), names{"b"});
    EXPECT_TRUE(s.peers().empty());
}

TEST_F(node_fixture, garbage_beacons_are_counted_and_ignored) {
    auto& a = start("a");
    discovery::beacon_socket sender(beacon_port_, {{"lo", "127.0.0.1", true, true, true}});
    const std::vector<std::vector<std::uint8_t>> garbage = {
        {}, {'Z'}, {'Z', 'M', 'S', 'H'}, {'Z', 'M', 'S', 'H', 9, 0, 0x90},
        {'Z', 'M', 'S', 'H', 1, 0, 0xc1}, std::vector<std::uint8_t>(600, 'x'),
        {'G', 'E', 'T', ' ', '/'}};
    for (const auto& g : garbage) sender.send(g);
    EXPECT_TRUE(wait_until([&] { return a.stats().beacons_invalid >= garbage.size() - 1; }, 2s))
        << a.stats().beacons_invalid;
    // Still working: a newcomer joins.
    start("b");
    EXPECT_TRUE(wait_until([&] { return joined_names(a) == names{"b"}; }, 2s));
}

TEST_F(node_fixture, one_seed_is_enough_to_learn_the_whole_mesh) {
    auto seed_options = make_options("seed");
    seed_options.beacon_interval = 0ms;   // no broadcast on this "network"
    seed_options.router_port = free_port();
    auto& seed = start(seed_options);
    std::vector<node*> others;
    for (const char* name : {"x", "y", "z"}) {
        auto o = make_options(name);
        o.beacon_interval = 0ms;
        o.seeds = {seed.router_endpoint()};
        others.push_back(&start(o));
    }
    EXPECT_TRUE(wait_until([&] { return joined_names(seed) == names{"x", "y", "z"}; }, 3s));
    // x, y and z only know the seed's address: the rest came from the seed's peer list.
    EXPECT_TRUE(wait_until([&] { return joined_names(*others[0]) == names{"seed", "y", "z"}; }, 3s));
    EXPECT_TRUE(wait_until([&] { return joined_names(*others[2]) == names{"seed", "x", "y"}; }, 3s));
}

TEST_F(node_fixture, seed_that_starts_late_is_found) {
    const auto seed_port = free_port();
    auto o = make_options("early");
    o.beacon_interval = 0ms;
    o.seed_interval = 100ms;
    o.seeds = {"tcp://127.0.0.1:" + std::to_string(seed_port)};
    auto& early = start(o);
    auto so = make_options("seed");
    so.beacon_interval = 0ms;
    so.router_port = seed_port;
    start(so);
    EXPECT_TRUE(wait_until([&] { return joined_names(early) == names{"seed"}; }, 3s));
}

TEST(node_options, invalid_options_are_refused_with_a_message) {
    options o;
    o.name = std::string(65, 'n');
    EXPECT_THROW(node{o}, std::invalid_argument);
    o = {};
    o.mesh = "";
    EXPECT_THROW(node{o}, std::invalid_argument);
    o = {};
    o.liveness.expired = o.liveness.evasive;
    EXPECT_THROW(node{o}, std::invalid_argument);
    o = {};
    o.seeds = {"udp://x:1"};
    EXPECT_THROW(node{o}, std::invalid_argument);
    o = {};
    EXPECT_NO_THROW(node{o});
    EXPECT_FALSE(node{o}.name().empty());   // default name: host-pid
}

TEST_F(node_fixture, bind_failure_is_reported_by_start) {
    auto o = make_options("a");
    o.router_port = free_port();
    start(o);
    auto dup = make_options("b");
    dup.router_port = o.router_port;
    node b(dup);
    EXPECT_THROW(b.start(), std::runtime_error);
    EXPECT_FALSE(b.running());
}

TEST_F(node_fixture, unknown_interface_is_reported_by_start) {
    auto o = make_options("a");
    o.interface = "no-such-if0";
    node n(o);
    try {
        n.start();
        FAIL() << "start() accepted a missing interface";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("no-such-if0"), std::string::npos);
    }
}

TEST_F(node_fixture, peer_table_is_bounded_by_max_peers_and_the_rest_are_counted) {
    auto o = make_options("small");
    o.max_peers = 2;
    auto& small = start(o);
    for (const char* name : {"p1", "p2", "p3", "p4"}) start(name);
    EXPECT_TRUE(wait_until([&] { return small.stats().peers_refused > 0; }, 5s));
    EXPECT_TRUE(wait_until([&] { return joined_names(small).size() == 2; }, 5s));
    // Newcomers keep knocking (beacons, HELLOs); the table never grows past the bound.
    EXPECT_FALSE(wait_until([&] { return small.peers().size() > 2; }, 1500ms));
    // The others still see each other: one full node does not split the mesh.
    EXPECT_TRUE(wait_until([&] { return joined_names(*nodes_.back()).size() >= 3; }, 5s));
}

}  // namespace
}  // namespace zmesh::test
