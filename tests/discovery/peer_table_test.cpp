// SPDX-License-Identifier: MPL-2.0
// peer_table tests: every liveness transition, driven by synthetic time points.
#include "peer_table_fixture.hpp"

using namespace zmesh::discovery;
using namespace zmesh::discovery::test;

TEST_F(peer_table_liveness, add_records_a_connecting_peer) {
    peer& p = add_a(5);
    EXPECT_EQ(table.find(a), &p);
    EXPECT_EQ(p.state, peer_state::connecting);
    EXPECT_EQ(p.name, "dialled");
    EXPECT_EQ(p.created, at(5));
    EXPECT_EQ(p.last_seen, at(5));
    EXPECT_EQ(table.find(id_of(0xb2)), nullptr);
}

TEST_F(peer_table_liveness, hello_moves_connecting_to_joined) {
    peer& p = add_a();
    const auto c = table.on_hello(p, hello_from(a), at(40));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, change_kind::joined);
    EXPECT_EQ(c->reason, leave_reason::none);
    EXPECT_EQ(c->snapshot.id, a);
    EXPECT_EQ(c->snapshot.state, peer_state::joined);
    EXPECT_EQ(p.state, peer_state::joined);
    EXPECT_EQ(p.last_seen, at(40));
}

TEST_F(peer_table_liveness, hello_supplies_name_services_and_advertised_endpoints) {
    peer& p = add_a();
    ASSERT_TRUE(table.on_hello(p, hello_from(a), at(1)));
    EXPECT_EQ(p.name, "declared");
    EXPECT_EQ(p.services, (std::vector<std::string>{"echo", "sum"}));
    EXPECT_EQ(p.advertised_pub, "tcp://10.0.0.1:7001");
    EXPECT_EQ(p.advertised_router, "tcp://10.0.0.1:7002");
    EXPECT_EQ(p.pub_endpoint, "tcp://192.0.2.1:6001");   // what we dialled stays
    EXPECT_FALSE(p.observer);
}

TEST_F(peer_table_liveness, hello_with_observer_flag_marks_observer) {
    peer& p = add_a();
    const auto c = table.on_hello(p, hello_from(a, zmesh::protocol::hello_flag_observer), at(1));
    ASSERT_TRUE(c);
    EXPECT_TRUE(p.observer);
    EXPECT_TRUE(c->snapshot.observer);
}

TEST_F(peer_table_liveness, second_hello_updates_without_rejoining) {
    peer& p = joined_a();
    hello h = hello_from(a);
    h.services = {"new"};
    EXPECT_FALSE(table.on_hello(p, h, at(100)));
    EXPECT_EQ(p.services, std::vector<std::string>{"new"});
    EXPECT_EQ(p.last_seen, at(100));
}

TEST_F(peer_table_liveness, handshake_timeout_drops_connecting_peer_silently) {
    add_a();
    std::vector<peer> dropped;
    EXPECT_TRUE(table.tick(at(2000), &dropped).empty());   // not yet: strictly longer
    EXPECT_TRUE(dropped.empty());
    ASSERT_NE(table.find(a), nullptr);

    EXPECT_TRUE(table.tick(at(2001), &dropped).empty());   // no change event: never joined
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0].id, a);
    EXPECT_EQ(dropped[0].pub_endpoint, "tcp://192.0.2.1:6001");
    EXPECT_EQ(table.handshake_timeouts(), 1u);
    EXPECT_EQ(table.find(a), nullptr);
}

TEST_F(peer_table_liveness, handshake_timeout_counts_without_dropped_list) {
    add_a();
    table.add(id_of(0xb2), "b", "tcp://h:1", "tcp://h:2", at(0), 0xb2b2);
    EXPECT_TRUE(table.tick(at(5000)).empty());
    EXPECT_EQ(table.handshake_timeouts(), 2u);
    EXPECT_TRUE(table.all().empty());
}

TEST_F(peer_table_liveness, joined_peer_turns_evasive_after_silence) {
    joined_a();
    EXPECT_TRUE(table.tick(at(1000)).empty());
    const auto changes = table.tick(at(1001));
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].kind, change_kind::evasive);
    EXPECT_EQ(changes[0].snapshot.state, peer_state::evasive);
    EXPECT_EQ(table.find(a)->state, peer_state::evasive);
    EXPECT_TRUE(table.tick(at(1500)).empty());   // reported once
}

TEST_F(peer_table_liveness, traffic_keeps_joined_peer_alive) {
    peer& p = joined_a();
    EXPECT_FALSE(table.on_traffic(p, at(900)));
    EXPECT_TRUE(table.tick(at(1800)).empty());
    EXPECT_EQ(p.state, peer_state::joined);
    EXPECT_EQ(table.tick(at(1901)).size(), 1u);
}

TEST_F(peer_table_liveness, evasive_peer_recovers_on_traffic) {
    peer& p = joined_a();
    ASSERT_EQ(table.tick(at(1500)).size(), 1u);
    const auto c = table.on_traffic(p, at(1600));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, change_kind::recovered);
    EXPECT_EQ(p.state, peer_state::joined);
    EXPECT_EQ(p.last_seen, at(1600));
    EXPECT_TRUE(table.tick(at(2600)).empty());
}

TEST_F(peer_table_liveness, evasive_peer_recovers_on_hello) {
    peer& p = joined_a();
    ASSERT_EQ(table.tick(at(1500)).size(), 1u);
    const auto c = table.on_hello(p, hello_from(a), at(1600));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, change_kind::recovered);
}

TEST_F(peer_table_liveness, evasive_peer_leaves_as_expired) {
    joined_a();
    ASSERT_EQ(table.tick(at(1500)).size(), 1u);
    EXPECT_TRUE(table.tick(at(3000)).empty());
    const auto changes = table.tick(at(3001));
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].kind, change_kind::left);
    EXPECT_EQ(changes[0].reason, leave_reason::expired);
    EXPECT_EQ(changes[0].snapshot.state, peer_state::left);
    EXPECT_EQ(changes[0].snapshot.id, a);
    EXPECT_EQ(table.find(a), nullptr);
}

TEST_F(peer_table_liveness, long_silence_between_ticks_leaves_directly) {
    joined_a();
    const auto changes = table.tick(at(10000));
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].kind, change_kind::left);
    EXPECT_EQ(changes[0].reason, leave_reason::expired);
}

TEST_F(peer_table_liveness, disconnect_makes_joined_peer_evasive_at_once) {
    peer& p = joined_a();
    const auto c = table.on_disconnect(p, at(10));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, change_kind::evasive);
    EXPECT_EQ(p.state, peer_state::evasive);
    EXPECT_EQ(p.disconnected_at, at(10));
    EXPECT_FALSE(table.on_disconnect(p, at(20)));   // already suspect
    EXPECT_EQ(p.disconnected_at, at(10));           // the grace period does not restart
}

TEST_F(peer_table_liveness, disconnect_of_connecting_peer_changes_nothing) {
    peer& p = add_a();
    EXPECT_FALSE(table.on_disconnect(p, at(10)));
    EXPECT_EQ(p.state, peer_state::connecting);
    EXPECT_FALSE(p.disconnected_at);
}

TEST_F(peer_table_liveness, traffic_while_disconnected_does_not_recover) {
    peer& p = joined_a();
    ASSERT_TRUE(table.on_disconnect(p, at(10)));
    EXPECT_FALSE(table.on_traffic(p, at(20)));
    EXPECT_FALSE(table.on_hello(p, hello_from(a), at(30)));
    EXPECT_EQ(p.state, peer_state::evasive);
}

TEST_F(peer_table_liveness, link_up_again_recovers_disconnected_peer) {
    peer& p = joined_a();
    ASSERT_TRUE(table.on_disconnect(p, at(10)));
    const auto c = table.on_link_up(p, at(200));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, change_kind::recovered);
    EXPECT_EQ(p.state, peer_state::joined);
    EXPECT_FALSE(p.disconnected_at);
    EXPECT_EQ(p.last_seen, at(200));
    EXPECT_TRUE(table.tick(at(1000)).empty());   // grace no longer applies
}

TEST_F(peer_table_liveness, link_up_without_disconnect_changes_nothing) {
    peer& p = joined_a();
    EXPECT_FALSE(table.on_link_up(p, at(10)));
    EXPECT_EQ(p.state, peer_state::joined);
}

TEST_F(peer_table_liveness, peer_with_its_link_up_never_goes_silent) {
    peer& p = joined_a();
    EXPECT_FALSE(table.on_link_up(p, at(5)));
    // No message from it at all: libzmq's heartbeat keeps the link, and that is life.
    for (int t = 100; t <= 10000; t += 100) ASSERT_TRUE(table.tick(at(t)).empty()) << t;
    EXPECT_EQ(p.state, peer_state::joined);
    EXPECT_EQ(p.last_seen, at(10000));
}

TEST_F(peer_table_liveness, link_up_of_connecting_peer_does_not_join_it) {
    peer& p = add_a();
    EXPECT_FALSE(table.on_link_up(p, at(5)));
    EXPECT_EQ(p.state, peer_state::connecting);
    EXPECT_TRUE(p.link_up);
    // Its HELLO never comes: the link being up does not keep it past the handshake timeout.
    table.tick(at(2001));
    EXPECT_EQ(table.find(a), nullptr);
    EXPECT_EQ(table.handshake_timeouts(), 1u);
}

TEST_F(peer_table_liveness, silence_counts_again_once_the_link_drops) {
    peer& p = joined_a();
    ASSERT_FALSE(table.on_link_up(p, at(5)));
    ASSERT_TRUE(table.tick(at(5000)).empty());
    ASSERT_TRUE(table.on_disconnect(p, at(5000)));   // libzmq found it silent: evasive
    EXPECT_FALSE(p.link_up);
    // A link dropped for silence was silent for `evasive` already: the rest of `expired`
    // (2000 ms, more than the 500 ms grace) is left for it to come back.
    EXPECT_TRUE(table.tick(at(6999)).empty());
    ASSERT_NE(table.find(a), nullptr);
    const auto changes = table.tick(at(7001));
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].kind, change_kind::left);
    EXPECT_EQ(changes[0].reason, leave_reason::disconnected);
}

TEST(peer_table_config, a_dropped_link_gets_the_longer_of_grace_and_expired_past_evasive) {
    liveness_config c;
    c.evasive = milliseconds(1000);
    c.expired = milliseconds(3000);
    c.disconnect_grace = milliseconds(500);
    EXPECT_EQ(c.down_allowed(), milliseconds(2000));
    c.expired = milliseconds(1200);
    EXPECT_EQ(c.down_allowed(), milliseconds(500));
}

TEST_F(peer_table_liveness, reconnect_failed_leaves_as_disconnected) {
    peer& p = joined_a();
    ASSERT_TRUE(table.on_disconnect(p, at(10)));
    // The first report is libzmq scheduling its first retry, not a refusal.
    ASSERT_FALSE(table.on_reconnect_failed(p));
    ASSERT_NE(table.find(a), nullptr);
    const auto c = table.on_reconnect_failed(p);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, change_kind::left);
    EXPECT_EQ(c->reason, leave_reason::disconnected);
    EXPECT_EQ(c->snapshot.id, a);
    EXPECT_EQ(table.find(a), nullptr);
}

TEST_F(peer_table_liveness, refusal_count_restarts_with_each_disconnect) {
    peer& p = joined_a();
    ASSERT_TRUE(table.on_disconnect(p, at(10)));
    ASSERT_FALSE(table.on_reconnect_failed(p));
    ASSERT_TRUE(table.on_link_up(p, at(20)));       // came back: recovered
    ASSERT_TRUE(table.on_disconnect(p, at(30)));      // dropped again: evasive
    EXPECT_FALSE(table.on_reconnect_failed(p));       // first report after the new drop
    EXPECT_TRUE(table.on_reconnect_failed(p));
}

TEST_F(peer_table_liveness, reconnect_failed_ignores_connected_or_connecting_peer) {
    peer& p = joined_a();
    EXPECT_FALSE(table.on_reconnect_failed(p));
    EXPECT_FALSE(table.on_reconnect_failed(p));
    EXPECT_NE(table.find(a), nullptr);
    peer& q = table.add(id_of(0xb2), "b", "tcp://h:1", "tcp://h:2", at(0), 0xb2b2);
    EXPECT_FALSE(table.on_reconnect_failed(q));
    EXPECT_NE(table.find(id_of(0xb2)), nullptr);
}

TEST_F(peer_table_liveness, disconnect_grace_expiry_leaves_as_disconnected) {
    table = peer_table([] {
        auto c = test_config();
        c.expired = milliseconds(1200);   // expired - evasive below the grace: the grace counts
        return c;
    }());
    peer& p = joined_a();
    ASSERT_TRUE(table.on_disconnect(p, at(100)));
    ASSERT_FALSE(table.on_traffic(p, at(550)));   // keeps it from expiring by silence
    EXPECT_TRUE(table.tick(at(600)).empty());
    const auto changes = table.tick(at(601));
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].kind, change_kind::left);
    EXPECT_EQ(changes[0].reason, leave_reason::disconnected);
    EXPECT_EQ(table.find(a), nullptr);
}

TEST_F(peer_table_liveness, remove_returns_left_for_joined_peer) {
    joined_a();
    const auto c = table.remove(a, leave_reason::leave);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, change_kind::left);
    EXPECT_EQ(c->reason, leave_reason::leave);
    EXPECT_EQ(c->snapshot.state, peer_state::left);
    EXPECT_EQ(table.find(a), nullptr);
    EXPECT_FALSE(table.remove(a, leave_reason::leave));   // already gone
}

TEST_F(peer_table_liveness, remove_returns_left_for_evasive_peer) {
    peer& p = joined_a();
    ASSERT_TRUE(table.on_disconnect(p, at(1)));
    const auto c = table.remove(a, leave_reason::replaced);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->reason, leave_reason::replaced);
}

TEST_F(peer_table_liveness, remove_of_connecting_peer_returns_nothing) {
    add_a();
    EXPECT_FALSE(table.remove(a, leave_reason::stopped));
    EXPECT_EQ(table.find(a), nullptr);
    EXPECT_EQ(table.handshake_timeouts(), 0u);
}

TEST_F(peer_table_liveness, find_by_pub_endpoint_matches_dialled_endpoint) {
    peer& p = joined_a();
    table.add(id_of(0xb2), "b", "tcp://192.0.2.2:6001", "tcp://192.0.2.2:6002", at(0), 0xb2b2);
    EXPECT_EQ(table.find_by_pub_endpoint("tcp://192.0.2.1:6001"), &p);
    EXPECT_EQ(table.find_by_pub_endpoint("tcp://192.0.2.2:6001"), table.find(id_of(0xb2)));
    EXPECT_EQ(table.find_by_pub_endpoint("tcp://10.0.0.1:7001"), nullptr);   // advertised
    EXPECT_EQ(table.find_by_pub_endpoint("tcp://192.0.2.1:6002"), nullptr);  // router
    table.remove(a, leave_reason::leave);
    EXPECT_EQ(table.find_by_pub_endpoint("tcp://192.0.2.1:6001"), nullptr);
}

TEST_F(peer_table_liveness, snapshot_is_a_copy) {
    peer& p = joined_a();
    const auto c = table.on_disconnect(p, at(5));
    ASSERT_TRUE(c);
    p.name = "changed later";
    EXPECT_EQ(c->snapshot.name, "declared");
    EXPECT_EQ(c->snapshot.state, peer_state::evasive);
}

TEST_F(peer_table_liveness, tick_judges_each_peer_on_its_own) {
    joined_a();                                                             // silent since 0
    const node_id b = id_of(0xb2), c = id_of(0xc3);
    peer& pb = table.add(b, "b", "tcp://h:1", "tcp://h:2", at(0), 0xb2b2);
    ASSERT_TRUE(table.on_hello(pb, hello_from(b), at(0)));
    table.add(c, "c", "tcp://h:3", "tcp://h:4", at(0), 0xc3c3);                      // never answers
    ASSERT_FALSE(table.on_traffic(pb, at(1200)));

    std::vector<peer> dropped;
    const auto changes = table.tick(at(2100), &dropped);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].kind, change_kind::evasive);
    EXPECT_EQ(changes[0].snapshot.id, a);
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0].id, c);
    EXPECT_EQ(table.find(b)->state, peer_state::joined);
    EXPECT_EQ(table.all().size(), 2u);
}

TEST(peer_table, default_config_matches_documented_timeouts) {
    const peer_table t;
    EXPECT_EQ(t.config().evasive, milliseconds(1000));
    EXPECT_EQ(t.config().expired, milliseconds(3000));
    EXPECT_EQ(t.config().handshake, milliseconds(3000));
    EXPECT_EQ(t.config().disconnect_grace, milliseconds(1000));
}
