// SPDX-License-Identifier: MPL-2.0
// mesh_view: the view settles after a beacon interval (an observer: once its second question
// had time to be answered), or sooner once a member answered, and only when no handshake is
// in flight and the table stopped changing; an empty one is told once a beacon can be named
// or none came for an interval; the beacon tally is bounded and tells other meshes apart.
#include "tools/mesh_view.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;
using cli::steady;

peer_info peer(const std::string& name, peer_state state, bool observer = false) {
    peer_info p;
    p.id = node_id::random();
    p.name = name;
    p.state = state;
    p.observer = observer;
    return p;
}

TEST(settle_tracker, an_empty_mesh_settles_after_a_beacon_interval_and_time_to_answer_the_last) {
    const cli::settle_rules rules{1000ms, 250ms, false};
    EXPECT_EQ(rules.floor(), 1500ms);
    const auto t0 = steady::now();
    cli::settle_tracker view(rules, t0);
    EXPECT_FALSE(view.update({}, t0));
    EXPECT_FALSE(view.update({}, t0 + 1250ms)) << "a member beaconing at the end of the interval may come";
    EXPECT_TRUE(view.update({}, t0 + 1500ms));
}

TEST(settle_tracker, an_observer_that_asks_settles_an_empty_mesh_once_its_second_question_had_time_to_be_answered) {
    // Asked at 0 and 250 ms, answered within 100 ms each, then 2 x quiet for the answer and
    // its dial to get through.
    const cli::settle_rules rules{1000ms, 250ms, false, true};
    EXPECT_EQ(rules.floor(), 850ms);
    const auto t0 = steady::now();
    cli::settle_tracker view(rules, t0);
    EXPECT_FALSE(view.update({}, t0 + 600ms)) << "the answer to the second question may still come";
    EXPECT_FALSE(view.update({}, t0 + 849ms));
    EXPECT_TRUE(view.update({}, t0 + 850ms));
}

TEST(settle_tracker, an_answer_after_the_floor_still_holds_it_back_while_in_handshake) {
    const cli::settle_rules rules{1000ms, 250ms, false, true};
    const auto t0 = steady::now();
    cli::settle_tracker view(rules, t0);
    auto a = peer("a", peer_state::connecting);
    EXPECT_FALSE(view.update({a}, t0 + 900ms));
    a.state = peer_state::joined;
    EXPECT_FALSE(view.update({a}, t0 + 950ms)) << "just joined: the table changed";
    EXPECT_TRUE(view.update({a}, t0 + 1200ms));
}

TEST(settle_tracker, a_member_that_answered_settles_it_before_the_interval_once_quiet) {
    const cli::settle_rules rules{1000ms, 250ms, false};
    const auto t0 = steady::now();
    cli::settle_tracker view(rules, t0);
    auto a = peer("a", peer_state::connecting);
    EXPECT_FALSE(view.update({a}, t0 + 100ms));
    EXPECT_EQ(view.pending(), 1u);
    a.state = peer_state::joined;
    EXPECT_FALSE(view.update({a}, t0 + 150ms)) << "its PEERS may still name others";
    auto b = peer("b", peer_state::connecting);   // named in a's PEERS
    EXPECT_FALSE(view.update({a, b}, t0 + 300ms));
    EXPECT_FALSE(view.update({a, b}, t0 + 700ms)) << "a handshake in flight";
    b.state = peer_state::joined;
    EXPECT_FALSE(view.update({a, b}, t0 + 710ms));
    EXPECT_TRUE(view.update({a, b}, t0 + 960ms));
    EXPECT_TRUE(view.quiet_for(250ms, t0 + 960ms));
}

TEST(settle_tracker, an_observer_alone_does_not_count_as_an_answer) {
    const cli::settle_rules rules{1000ms, 250ms, false};
    const auto t0 = steady::now();
    cli::settle_tracker view(rules, t0);
    const auto watcher = peer("monitor", peer_state::joined, true);
    EXPECT_FALSE(view.update({watcher}, t0 + 100ms));
    EXPECT_FALSE(view.update({watcher}, t0 + 900ms));
    EXPECT_TRUE(view.update({watcher}, t0 + 1500ms));
}

TEST(settle_tracker, without_beacons_only_an_answer_settles_it) {
    const cli::settle_rules rules{0ms, 250ms, false};
    const auto t0 = steady::now();
    cli::settle_tracker view(rules, t0);
    EXPECT_FALSE(view.update({}, t0 + 10s));
    const auto seed = peer("seed", peer_state::joined);
    EXPECT_FALSE(view.update({seed}, t0 + 10s));
    EXPECT_TRUE(view.update({seed}, t0 + 10s + 250ms));
}

TEST(settle_tracker, with_subscriptions_a_member_is_pending_until_it_told_them) {
    const cli::settle_rules rules{1000ms, 250ms, true};
    const auto t0 = steady::now();
    cli::settle_tracker view(rules, t0);
    auto a = peer("a", peer_state::joined);
    EXPECT_FALSE(view.update({a}, t0 + 2s));
    EXPECT_FALSE(view.update({a}, t0 + 3s));
    EXPECT_EQ(view.pending(), 1u);
    a.subscriptions_known = true;
    a.subscriptions = {"orders."};
    EXPECT_FALSE(view.update({a}, t0 + 3s + 1ms)) << "what it told is a change";
    EXPECT_TRUE(view.update({a}, t0 + 3s + 251ms));
}

TEST(settle_rules, follow_the_beacon_interval_and_a_seed_round_trip_without_beacons) {
    options o;
    o.beacon_interval = 2000ms;
    EXPECT_FALSE(cli::settle_rules_for(o).asks) << "a member does not ask";
    EXPECT_EQ(cli::settle_rules_for(o).floor(), 2500ms);
    o.beacon_interval = 0ms;
    EXPECT_EQ(cli::settle_rules_for(o).floor(), 1500ms);
}

TEST(settle_rules, an_observer_asks_whatever_the_beacon_interval_but_not_without_beacons) {
    options o;
    o.observer = true;
    o.beacon_interval = 3000ms;   // members that beacon seldom answer as soon
    EXPECT_TRUE(cli::settle_rules_for(o).asks);
    EXPECT_EQ(cli::settle_rules_for(o).floor(), 850ms);
    o.beacon_interval = 100ms;    // its second question comes after an interval, not 250 ms
    EXPECT_EQ(cli::settle_rules_for(o).floor(), 700ms);
    o.beacon_interval = 0ms;      // no beacon socket: a seed's round trip
    EXPECT_FALSE(cli::settle_rules_for(o).asks);
    EXPECT_EQ(cli::settle_rules_for(o).floor(), 1500ms);
}

TEST(settle_rules, an_empty_view_is_told_once_a_beacon_was_heard_or_after_every_node_had_its_interval) {
    const cli::settle_rules rules{1000ms, 250ms, false, true};
    EXPECT_TRUE(rules.may_tell_empty(1, 850ms)) << "another mesh's node: it can be named";
    EXPECT_FALSE(rules.may_tell_empty(0, 850ms)) << "a node of another mesh, which does not answer, may beacon";
    EXPECT_FALSE(rules.may_tell_empty(0, 1499ms));
    EXPECT_TRUE(rules.may_tell_empty(0, 1500ms)) << "no node beacons on the port";
    const cli::settle_rules no_beacons{0ms, 250ms, false, false};
    EXPECT_TRUE(no_beacons.may_tell_empty(0, 0ms)) << "nothing to listen to";
}

TEST(members_of, keeps_joined_and_evasive_members_by_name) {
    const auto list = cli::members_of({peer("c", peer_state::evasive), peer("x", peer_state::connecting),
                                       peer("m", peer_state::joined, true), peer("a", peer_state::joined)});
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "a");
    EXPECT_EQ(list[1].name, "c");
}

TEST(beacon_tally, counts_distinct_nodes_per_mesh_and_stays_bounded) {
    cli::beacon_tally tally;
    const auto a = node_id::random(), b = node_id::random();
    tally.heard("shop", a);
    tally.heard("shop", a);   // every beacon interval, the same node
    tally.heard("shop", b);
    tally.heard("demo", node_id::random());
    EXPECT_EQ(tally.nodes_of("shop"), 2u);
    EXPECT_EQ(tally.nodes(), 3u);
    const auto others = tally.others("shp");
    ASSERT_EQ(others.size(), 2u);
    EXPECT_EQ(others[0], (std::pair<std::string, std::size_t>{"shop", 2}));
    EXPECT_EQ(tally.others("shop").size(), 1u);
    for (std::size_t i = 0; i < 2 * cli::beacon_tally::max_nodes; ++i) tally.heard("m" + std::to_string(i % 7), node_id::random());
    std::size_t total = 0;
    for (const auto& [mesh, nodes] : tally.others("")) total += nodes;
    EXPECT_EQ(total, cli::beacon_tally::max_nodes);
}

}  // namespace
}  // namespace zmesh::test
