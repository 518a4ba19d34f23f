// SPDX-License-Identifier: MPL-2.0
// The mesh of a node that gossips, without sockets: it says so in its HELLO, exchanges
// MEMBERS with members that gossip and PEERS with the others, dials the members gossip finds,
// doubts (never drops on hearsay) the ones gossip calls dead, and judges the peers that do
// not gossip by their silence, its links carrying no libzmq heartbeat.
#include "gossip_mesh_fixture.hpp"

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;
using clock = mesh::clock;
using mesh_fakes::gossip_mesh;
using protocol::gossip_status;
using protocol::node_id;

TEST_F(gossip_mesh, its_hello_says_it_gossips_and_gossiping_members_get_members_and_peers_of_the_rest) {
    ASSERT_TRUE(m_.gossips());
    join(a_, 1, true, 100);
    join(b_, 2, true, 200);
    ASSERT_FALSE(wire_.to<protocol::hello>(a_).empty());
    EXPECT_TRUE(wire_.to<protocol::hello>(a_)[0].flags & protocol::hello_flag_gossip);
    EXPECT_TRUE(wire_.to<protocol::peers>(b_).empty()) << "every member known gossips";
    // Each is told of us; only the first is asked for its table (we knew nobody then).
    ASSERT_EQ(wire_.to<protocol::members>(a_).size(), 1u);
    EXPECT_TRUE(wire_.to<protocol::members>(a_)[0].reply_wanted);
    const auto tables = wire_.to<protocol::members>(b_);
    ASSERT_EQ(tables.size(), 1u);
    EXPECT_FALSE(tables[0].reply_wanted);
    ASSERT_EQ(tables[0].list.size(), 1u);
    EXPECT_EQ(tables[0].list[0].id, self_);
    // Between members that gossip, PEERS names the members that do not: gossip never does.
    const auto plain = node_id::random();
    protocol::control list = protocol::peers{{{plain, "x", endpoint(900), endpoint(901)}}};
    m_.on_control(protocol::sender_route{b_, false, 2}, list, at(5));
    EXPECT_TRUE(wire_.open.contains(plain));
    join(plain, 3, false, 300);
    const auto c = node_id::random();
    join(c, 4, true, 400);
    const auto named = wire_.to<protocol::peers>(c);
    ASSERT_EQ(named.size(), 1u);
    ASSERT_EQ(named[0].list.size(), 1u) << "only the member that does not gossip";
    EXPECT_EQ(named[0].list[0].id, plain);
}

TEST_F(gossip_mesh, a_member_that_does_not_gossip_gets_peers_and_its_members_are_refused) {
    join(a_, 1, true, 100);
    join(b_, 2, false, 200);
    EXPECT_EQ(wire_.to<protocol::peers>(b_).size(), 1u);
    EXPECT_TRUE(wire_.to<protocol::members>(b_).empty());
    members_from(b_, 2, {false, {news(node_id::random(), 1, gossip_status::alive, 300)}}, 10);
    EXPECT_EQ(stats_.frames_invalid, 1u);
}

TEST_F(gossip_mesh, a_member_gossip_finds_is_dialled) {
    join(a_, 1, true, 100);
    const auto found = node_id::random();
    members_from(a_, 1, {false, {news(found, 3, gossip_status::alive, 300)}}, 10);
    EXPECT_TRUE(wire_.open.contains(found));
    ASSERT_NE(m_.table().find(found), nullptr);
    EXPECT_EQ(m_.table().find(found)->router_endpoint, endpoint(301));
}

TEST_F(gossip_mesh, a_member_gossip_calls_dead_is_asked_and_stays_when_it_answers) {
    join(a_, 1, true, 100);
    join(b_, 2, true, 200);
    const auto pings_before = wire_.to<protocol::ping>(b_).size();
    members_from(a_, 1, {false, {news(b_, 1u << 31, gossip_status::dead)}}, 10);
    EXPECT_EQ(m_.table().find(b_)->state, discovery::peer_state::evasive);
    EXPECT_EQ(wire_.to<protocol::ping>(b_).size(), pings_before + 1);   // asked directly
    protocol::control pong = protocol::pong{0};
    m_.on_control(protocol::sender_route{b_, false, 2}, pong, at(20));
    EXPECT_EQ(m_.table().find(b_)->state, discovery::peer_state::joined);
    m_.on_timers(at(20) + opts_.liveness.evasive * 2);
    EXPECT_NE(m_.table().find(b_), nullptr);
}

TEST_F(gossip_mesh, a_member_gossip_calls_dead_that_stays_silent_leaves) {
    join(a_, 1, true, 100);
    join(b_, 2, true, 200);
    members_from(a_, 1, {false, {news(b_, 1u << 31, gossip_status::left)}}, 10);
    m_.on_timers(at(10) + opts_.liveness.evasive / 2);
    EXPECT_NE(m_.table().find(b_), nullptr);   // its link is up: not before its time
    m_.on_timers(at(11) + opts_.liveness.evasive);
    EXPECT_EQ(m_.table().find(b_), nullptr);
    EXPECT_TRUE(wire_.open.contains(a_));
    EXPECT_FALSE(wire_.open.contains(b_));
}

TEST_F(gossip_mesh, a_peer_that_does_not_gossip_is_pinged_and_judged_by_its_silence) {
    join(b_, 2, false, 200);
    m_.on_link_event(b_, link_event::up, at(1));
    for (int ms = 0; ms <= 3 * static_cast<int>(opts_.liveness.heartbeat.count()); ms += 10) m_.on_timers(at(ms));
    EXPECT_GE(wire_.to<protocol::ping>(b_).size(), 3u);
    // Its link is up, but no libzmq heartbeat vouches for it: silence counts.
    for (auto t = at(0); t <= at(0) + opts_.liveness.expired + 200ms; t += 50ms) m_.on_timers(t);
    EXPECT_EQ(m_.table().find(b_), nullptr);
}

TEST_F(gossip_mesh, a_member_that_gossips_is_judged_by_its_acks_not_by_silence_on_its_link) {
    join(a_, 1, true, 100);
    m_.on_link_event(a_, link_event::up, at(1));
    const auto a_gossip = *discovery::udp_address_of(endpoint(101));
    // Runs the timers to `until`, `a_` acking every probe of ours while `acks`.
    auto run = [&](clock::time_point from, clock::time_point until, bool acks) {
        for (auto t = from; t <= until; t += 10ms) {
            m_.on_timers(t);
            for (const auto& d : std::exchange(wire_.datagrams, {})) {
                const auto probe = protocol::decode_gossip(d.bytes);
                if (!acks || !probe || !(d.to == a_gossip) || probe->message.type != protocol::gossip_kind::ping) continue;
                protocol::gossip_message ack;
                ack.type = protocol::gossip_kind::ack;
                ack.seq = probe->message.seq;
                ack.target = a_;
                m_.on_gossip(protocol::encode_gossip({"test", a_, ack}), a_gossip, t);
            }
        }
    };
    // No traffic on its link for longer than `expired`, but it answers gossip: it stays.
    run(at(0), at(0) + opts_.liveness.expired * 2, true);
    ASSERT_NE(m_.table().find(a_), nullptr);
    EXPECT_EQ(m_.table().find(a_)->state, discovery::peer_state::joined);
    EXPECT_GT(stats_.gossip_sent, 0u);
    EXPECT_GT(stats_.gossip_received, 0u);
    // It stops answering (a frozen process, its link still up): gossip finds it dead, and it
    // does not answer our ping either.
    const auto start = at(0) + opts_.liveness.expired * 2;
    run(start, start + 15s, false);
    EXPECT_EQ(m_.table().find(a_), nullptr);
}

TEST_F(gossip_mesh, a_member_still_joining_does_not_beacon_again_until_it_is_alone_again) {
    opts_.beacon_interval = 1000ms;
    m_.on_timers(at(0));
    ASSERT_EQ(wire_.beacons, 1) << "alone: at once";
    // It hears a node and dials it: found, it is joining, and beacons no more meanwhile.
    m_.on_beacon(beacon_of(a_, 100), "10.0.0.1", at(10));
    ASSERT_NE(m_.table().find(a_), nullptr);
    for (int ms = 100; ms < 2500; ms += 100) m_.on_timers(at(ms));
    EXPECT_EQ(wire_.beacons, 1);
    // That node never answers: dropped after the handshake timeout, ours is alone again.
    for (int ms = 2500; ms <= 3000 + static_cast<int>(opts_.liveness.handshake.count()); ms += 100) m_.on_timers(at(ms));
    EXPECT_EQ(m_.table().find(a_), nullptr);
    EXPECT_GE(wire_.beacons, 2);
}

}  // namespace
}  // namespace zmesh::detail
