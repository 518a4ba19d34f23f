// SPDX-License-Identifier: MPL-2.0
// The mesh's rules without sockets: what it dials, sends, drops and reports, for each message
// and timer, with the wire and the node around it recorded.
#include "fakes.hpp"
#include "node/mesh/mesh.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;
using clock = mesh::clock;
using protocol::node_id;

class mesh_rules : public ::testing::Test, protected mesh_fakes::mesh_world {
protected:
    mesh_rules() : mesh_world(options{}) {
        opts_.mesh = "test";
        opts_.name = "self";
        opts_.max_peers = 4;
        m_.advertise("tcp://127.0.0.1:1", "tcp://127.0.0.1:2");
    }

    clock::time_point at(int ms) const { return t0_ + std::chrono::milliseconds(ms); }

    // A HELLO from `id`, as a node that found us first sends it.
    protocol::hello hello_from(const node_id& id, std::uint64_t token, std::uint64_t echo = 0,
                               std::string mesh = "test") {
        protocol::hello h;
        h.mesh = std::move(mesh);
        h.id = id;
        h.name = "peer-" + id.short_hex();
        // Each id its own ports: two ids at one endpoint would be one node restarted.
        const auto port = ports_.try_emplace(id, 1000 + ports_.size()).first->second;
        h.pub_endpoint = "tcp://10.0.0.1:" + std::to_string(port);
        h.router_endpoint = "tcp://10.0.0.1:" + std::to_string(port + 500);
        h.token = token;
        h.echo = echo;
        h.flags = protocol::hello_flag_call_links;
        return h;
    }
    static protocol::sender_route route(const node_id& id, std::uint64_t token) { return {id, false, token}; }

    // Makes `id` a joined member: its HELLO, as a newcomer, with `token` as its own.
    void join(const node_id& id, std::uint64_t token, int ms = 0) {
        protocol::control msg = hello_from(id, token);
        m_.on_control(route(id, token), msg, at(ms));
        const auto* p = m_.table().find(id);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(p->state, discovery::peer_state::joined);
    }
    std::uint64_t our_token(const node_id& id) { return m_.table().find(id)->our_token; }

    std::map<node_id, std::size_t> ports_;   // of the ids HELLOs came from
};

TEST_F(mesh_rules, hello_from_a_newcomer_dials_it_back_echoing_its_token_and_joins_it) {
    join(a_, 77);
    ASSERT_TRUE(wire_.open.contains(a_));
    const auto hellos = wire_.to<protocol::hello>(a_);
    ASSERT_EQ(hellos.size(), 1u);
    EXPECT_EQ(hellos[0].echo, 77u);
    EXPECT_EQ(hellos[0].token, wire_.open[a_]);
    EXPECT_EQ(hellos[0].services, std::vector<std::string>{"echo"});
    EXPECT_EQ(host_.count(discovery::change_kind::joined), 1);
}

TEST_F(mesh_rules, a_joining_peer_is_sent_the_members_it_does_not_know) {
    join(a_, 1);
    EXPECT_TRUE(wire_.to<protocol::peers>(a_).empty());   // nobody else to tell of
    join(b_, 2);
    const auto lists = wire_.to<protocol::peers>(b_);
    ASSERT_EQ(lists.size(), 1u);
    ASSERT_EQ(lists[0].list.size(), 1u);
    EXPECT_EQ(lists[0].list[0].id, a_);
}

TEST_F(mesh_rules, hello_of_another_mesh_is_ignored_and_counted) {
    protocol::control msg = hello_from(a_, 1, 0, "other");
    m_.on_control(route(a_, 1), msg, at(0));
    EXPECT_EQ(m_.table().find(a_), nullptr);
    EXPECT_TRUE(wire_.open.empty());
    EXPECT_EQ(stats_.hellos_foreign_mesh, 1u);
}

TEST_F(mesh_rules, a_later_hello_not_quoting_our_token_changes_nothing_and_is_challenged_once) {
    join(a_, 1);
    auto forged = hello_from(a_, 999, /*echo=*/12345);
    forged.services = {"stolen"};
    protocol::control msg = forged;
    const auto before = wire_.to<protocol::hello>(a_).size();
    m_.on_control(route(a_, 999), msg, at(10));
    m_.on_control(route(a_, 999), msg, at(20));   // within a heartbeat: not asked again
    EXPECT_EQ(stats_.hellos_unverified, 2u);
    EXPECT_TRUE(m_.table().find(a_)->services.empty());
    const auto hellos = wire_.to<protocol::hello>(a_);
    ASSERT_EQ(hellos.size(), before + 1);
    EXPECT_EQ(hellos.back().echo, 999u);   // the challenge, through our own link
}

TEST_F(mesh_rules, a_leave_not_quoting_our_token_is_ignored_and_an_authentic_one_drops_the_peer) {
    join(a_, 1);
    protocol::control forged = protocol::leave{our_token(a_) + 1};
    m_.on_control(route(a_, 1), forged, at(10));
    EXPECT_EQ(stats_.leaves_unverified, 1u);
    EXPECT_NE(m_.table().find(a_), nullptr);

    protocol::control real = protocol::leave{our_token(a_)};
    m_.on_control(route(a_, 1), real, at(20));
    EXPECT_EQ(m_.table().find(a_), nullptr);
    EXPECT_EQ(wire_.closed, std::vector<node_id>{a_});
    EXPECT_EQ(host_.unlinked, std::vector<node_id>{a_});
    ASSERT_EQ(host_.count(discovery::change_kind::left), 1);
    EXPECT_EQ(host_.changes.back().reason, discovery::leave_reason::leave);
}

TEST_F(mesh_rules, messages_from_a_connection_without_the_peers_token_are_dropped) {
    join(a_, 1);
    EXPECT_EQ(m_.known_sender(route(a_, 2), at(10)), nullptr);
    EXPECT_EQ(stats_.frames_wrong_link, 1u);
    EXPECT_NE(m_.known_sender(route(a_, 1), at(10)), nullptr);
    EXPECT_EQ(m_.known_sender(std::nullopt, at(10)), nullptr);
    EXPECT_EQ(m_.known_sender(route(b_, 1), at(10)), nullptr);
    EXPECT_EQ(stats_.frames_unknown_sender, 2u);
}

TEST_F(mesh_rules, a_ping_is_answered_and_a_pong_measures_the_round_trip) {
    join(a_, 1);
    protocol::control ping = protocol::ping{42};
    m_.on_control(route(a_, 1), ping, at(10));
    ASSERT_EQ(wire_.to<protocol::pong>(a_).size(), 1u);
    EXPECT_EQ(wire_.to<protocol::pong>(a_)[0].token, 42u);

    const auto sent_us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(at(10).time_since_epoch()).count());
    protocol::control pong = protocol::pong{sent_us};
    m_.on_control(route(a_, 1), pong, at(13));
    EXPECT_EQ(m_.table().find(a_)->rtt_us, 3000);
}

TEST_F(mesh_rules, a_beacon_dials_a_stranger_once_and_counts_as_traffic_after) {
    const auto b = beacon_of(a_);
    m_.on_beacon(b, "10.1.1.1", at(0));
    ASSERT_EQ(host_.dialled, std::vector<node_id>{a_});
    EXPECT_EQ(m_.table().find(a_)->router_endpoint, "tcp://10.1.1.1:5001");
    m_.on_beacon(b, "10.1.1.1", at(100));
    EXPECT_EQ(host_.dialled.size(), 1u);
}

TEST_F(mesh_rules, a_peers_list_dials_only_the_unknown) {
    join(a_, 1);
    protocol::peers list;
    list.list.push_back({self_, "self", "tcp://x:1", "tcp://x:2"});
    list.list.push_back({a_, "a", "tcp://y:1", "tcp://y:2"});
    list.list.push_back({b_, "b", "tcp://z:1", "tcp://z:2"});
    protocol::control msg = list;
    m_.on_control(route(a_, 1), msg, at(10));
    EXPECT_EQ(host_.dialled, (std::vector<node_id>{a_, b_}));
}

TEST_F(mesh_rules, peers_past_max_peers_are_refused_and_counted) {
    for (int i = 0; i < 6; ++i) {
        protocol::control msg = hello_from(node_id::random(), 10 + i);
        m_.on_control(std::nullopt, msg, at(i));
    }
    EXPECT_EQ(m_.table().all().size(), 4u);
    EXPECT_EQ(stats_.peers_refused, 2u);
}

TEST_F(mesh_rules, a_key_the_host_does_not_allow_is_never_dialled) {
    host_.allow = false;
    protocol::control msg = hello_from(a_, 1);
    m_.on_control(route(a_, 1), msg, at(0));
    EXPECT_TRUE(wire_.open.empty());
    EXPECT_EQ(m_.table().find(a_), nullptr);
}

TEST_F(mesh_rules, a_newcomer_at_a_live_members_endpoints_is_not_dialled) {
    join(a_, 1);
    auto h = hello_from(b_, 2);
    h.pub_endpoint = m_.table().find(a_)->pub_endpoint;
    h.router_endpoint = m_.table().find(a_)->router_endpoint;
    protocol::control msg = h;
    m_.on_control(route(b_, 2), msg, at(10));
    EXPECT_EQ(m_.table().find(b_), nullptr);
    EXPECT_EQ(stats_.endpoint_conflicts, 1u);
    EXPECT_NE(m_.table().find(a_), nullptr);
}

TEST_F(mesh_rules, heartbeats_retry_the_handshake_and_ping_only_links_in_use) {
    const auto b = beacon_of(b_);
    m_.on_beacon(b, "10.1.1.2", at(0));   // b_ is dialled, still connecting
    join(a_, 1);
    wire_.sent.clear();
    m_.on_timers(at(1));
    EXPECT_EQ(wire_.to<protocol::hello>(b_).size(), 1u);   // handshake retry
    EXPECT_EQ(wire_.to<protocol::ping>(a_).size(), 1u);    // used since opened
    EXPECT_EQ(stats_.pings_sent, 1u);

    protocol::control pong = protocol::pong{wire_.to<protocol::ping>(a_)[0].token};
    m_.on_control(route(a_, 1), pong, at(2));   // its round trip is known now

    wire_.sent.clear();
    m_.on_timers(at(1) + opts_.liveness.heartbeat);
    EXPECT_TRUE(wire_.to<protocol::ping>(a_).empty());     // idle: libzmq's heartbeat suffices
    wire_.mark_used(a_);
    m_.on_timers(at(1) + 2 * opts_.liveness.heartbeat);
    EXPECT_EQ(wire_.to<protocol::ping>(a_).size(), 1u);
}

TEST_F(mesh_rules, a_dialled_peer_that_never_answers_is_dropped_without_ever_joining) {
    const auto b = beacon_of(a_);
    m_.on_beacon(b, "10.1.1.2", at(0));
    m_.on_timers(at(1));
    m_.on_timers(at(1) + opts_.liveness.handshake + 1ms);
    EXPECT_EQ(m_.table().find(a_), nullptr);
    EXPECT_EQ(wire_.closed, std::vector<node_id>{a_});
    EXPECT_EQ(host_.unlinked, std::vector<node_id>{a_});
    EXPECT_TRUE(host_.changes.empty());
}

TEST_F(mesh_rules, a_link_down_too_long_makes_its_peer_leave_disconnected) {
    join(a_, 1);
    m_.on_link_event(a_, link_event::up, at(1));
    m_.on_link_event(a_, link_event::down, at(10));
    EXPECT_EQ(stats_.link_disconnects, 1u);
    m_.on_timers(at(10) + opts_.liveness.down_allowed() + 1ms);
    ASSERT_EQ(host_.count(discovery::change_kind::left), 1);
    EXPECT_EQ(m_.table().find(a_), nullptr);
    EXPECT_EQ(wire_.closed, std::vector<node_id>{a_});
}

TEST_F(mesh_rules, a_link_back_after_a_drop_asks_whoever_is_there_who_it_is) {
    join(a_, 1);
    m_.on_link_event(a_, link_event::up, at(1));
    m_.on_link_event(a_, link_event::down, at(10));
    wire_.sent.clear();
    m_.on_link_event(a_, link_event::up, at(20));
    const auto hellos = wire_.to<protocol::hello>(a_);
    ASSERT_EQ(hellos.size(), 1u);
    EXPECT_EQ(hellos[0].token, our_token(a_));
}

TEST_F(mesh_rules, seeds_are_probed_at_once_then_with_a_backoff) {
    wire_.seeds = true;
    opts_.seed_interval = 1000ms;
    for (int ms = 0; ms <= 400; ms += 10) m_.on_timers(at(ms));
    // At 0, 50, 150 and 350 ms: the retry doubles from 50 ms up to the seed interval.
    ASSERT_EQ(wire_.probes.size(), 4u);
    EXPECT_EQ(wire_.probes[0].id, self_);
    EXPECT_EQ(wire_.probes[0].token, 0u);   // a seed is not a peer yet: no token
}

TEST_F(mesh_rules, beacons_go_out_every_interval_unless_off) {
    opts_.beacon_interval = 100ms;
    for (int ms = 0; ms < 300; ms += 10) m_.on_timers(at(ms));
    EXPECT_EQ(wire_.beacons, 3);
    EXPECT_LE(m_.next_deadline(), at(300));
}

TEST_F(mesh_rules, an_asking_beacon_is_never_dialled_and_brings_this_members_beacon_forward) {
    opts_.beacon_interval = 1000ms;
    m_.on_timers(at(0));
    ASSERT_EQ(wire_.beacons, 1);
    auto asking = beacon_of(a_);
    asking.asking = true;
    m_.on_beacon(asking, "10.1.1.1", at(10));
    EXPECT_TRUE(host_.dialled.empty()) << "the observer dials whoever answers";
    EXPECT_EQ(m_.table().find(a_), nullptr);
    EXPECT_LE(m_.next_deadline(), at(110)) << "alone in its table: it answers, within 100 ms";
    for (int ms = 20; ms <= 110; ms += 10) m_.on_timers(at(ms));
    EXPECT_EQ(wire_.beacons, 2);
    m_.on_beacon(asking, "10.1.1.1", at(200));   // asked again at once: answered already
    for (int ms = 210; ms <= 1000; ms += 10) m_.on_timers(at(ms));
    EXPECT_EQ(wire_.beacons, 2) << "at most one answer per 500 ms, whoever asks";
    EXPECT_EQ(stats_.beacon_questions, 2u);
    EXPECT_EQ(stats_.beacon_answers, 1u);
}

TEST_F(mesh_rules, about_three_members_answer_each_question_whatever_the_meshs_size) {
    opts_.beacon_interval = 3600s;   // only answers after the first
    std::vector<node_id> others;
    for (int i = 0; i < 4; ++i) join(others.emplace_back(node_id::random()), 10 + i);   // 5 with us
    auto asking = beacon_of(a_);
    asking.asking = true;
    int answered = 0;
    for (int i = 0; i < 200; ++i) {
        const int t = i * 600;   // past the spacing each time
        for (const auto& id : others) m_.on_beacon(beacon_of(id), "10.0.0.1", at(t));   // alive
        ASSERT_EQ(m_.table().all().size(), 4u);
        m_.on_timers(at(t));
        const int before = wire_.beacons;
        m_.on_beacon(asking, "10.1.1.1", at(t + 1));
        for (int ms = 10; ms <= 110; ms += 10) m_.on_timers(at(t + ms));
        answered += wire_.beacons - before;
    }
    // Each member answers with a chance of 3 in 5: 120 of 200 expected (6.9 standard
    // deviations from either bound).
    EXPECT_GT(answered, 72);
    EXPECT_LT(answered, 168);
    EXPECT_EQ(stats_.beacon_answers, static_cast<std::uint64_t>(answered));
    EXPECT_EQ(stats_.beacon_questions, 200u);
}

TEST_F(mesh_rules, an_observer_asks_for_beacons_until_it_knows_a_member_and_never_beacons) {
    opts_.observer = true;
    opts_.beacon_interval = 1000ms;
    for (int ms = 0; ms < 800; ms += 10) m_.on_timers(at(ms));
    EXPECT_EQ(wire_.asks, 3) << "at 0, 250 and 750 ms: soon, then less often";
    for (int ms = 800; ms < 4800; ms += 10) m_.on_timers(at(ms));
    EXPECT_EQ(wire_.asks, 7) << "then once a beacon interval";
    EXPECT_EQ(wire_.beacons, 0);
    join(a_, 7, 4800);
    for (int ms = 4800; ms < 8000; ms += 10) {
        m_.on_beacon(beacon_of(a_), "10.0.0.1", at(ms));   // a_ stays alive
        m_.on_timers(at(ms));
    }
    EXPECT_EQ(wire_.asks, 7);
    EXPECT_EQ(wire_.beacons, 0);
}

TEST_F(mesh_rules, leave_goes_to_every_peer_quoting_the_token_it_gave_us) {
    join(a_, 7);
    join(b_, 8);
    m_.leave_all();
    ASSERT_EQ(wire_.to<protocol::leave>(a_).size(), 1u);
    EXPECT_EQ(wire_.to<protocol::leave>(a_)[0].token, 7u);
    EXPECT_EQ(wire_.to<protocol::leave>(b_)[0].token, 8u);
}

TEST_F(mesh_rules, a_stats_query_is_handed_to_the_host_and_stats_are_kept) {
    join(a_, 1);
    protocol::control q = protocol::stats_query{};
    m_.on_control(route(a_, 1), q, at(10));
    EXPECT_EQ(host_.stats_asked_by, std::vector<node_id>{a_});
    protocol::control st = protocol::stats{{{"events_out", 5}}};
    m_.on_control(route(a_, 1), st, at(11));
    ASSERT_EQ(m_.table().find(a_)->reported.size(), 1u);
    EXPECT_EQ(m_.table().find(a_)->reported[0].second, 5u);
}

}  // namespace
}  // namespace zmesh::detail
