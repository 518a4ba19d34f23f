// SPDX-License-Identifier: MPL-2.0
// gossip_membership: the precedence of news, the dissemination queue, and whole meshes of
// members over a simulated network (gossip_sim.hpp): joining by one contact, a kill seen by
// all, no false deaths under loss or a slow member, refutation, leaving, and the bounds.
#include "gossip_sim.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace zmesh::discovery::gossip::test {
namespace {

update news(std::size_t n, std::uint32_t inc, status s) { return update{numbered_id(n), inc, s, {}, {}}; }

TEST(GossipNews, LaterIncarnationWinsAndGraverStateWinsAtOne) {
    EXPECT_TRUE(overrides(news(1, 2, status::alive), news(1, 1, status::dead)));
    EXPECT_FALSE(overrides(news(1, 1, status::dead), news(1, 2, status::alive)));
    EXPECT_TRUE(overrides(news(1, 1, status::suspect), news(1, 1, status::alive)));
    EXPECT_FALSE(overrides(news(1, 1, status::alive), news(1, 1, status::suspect)));
    EXPECT_TRUE(overrides(news(1, 1, status::dead), news(1, 1, status::suspect)));
    EXPECT_TRUE(overrides(news(1, 1, status::left), news(1, 1, status::suspect)));
    EXPECT_FALSE(overrides(news(1, 1, status::dead), news(1, 1, status::left)));
    EXPECT_FALSE(overrides(news(1, 1, status::alive), news(1, 1, status::alive)));
}

TEST(GossipQueue, LeastSentFirstUntilTheLimitAndNewerNewsStartsAgain) {
    gossip_queue q;
    q.push(news(1, 1, status::alive));
    q.push(news(2, 1, status::alive));
    auto first = q.take(1, 2);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].id, numbered_id(2));                 // the newer news first
    EXPECT_EQ(q.take(1, 2)[0].id, numbered_id(1));          // then the one sent less
    EXPECT_EQ(q.take(2, 2).size(), 2u);                     // both reach the limit
    EXPECT_TRUE(q.empty());
    q.push(news(3, 1, status::alive));
    (void)q.take(1, 3);
    q.push(news(3, 2, status::suspect));                    // replaces, counts from zero
    EXPECT_EQ(q.size(), 1u);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(q.take(4, 3).at(0).state, status::suspect);
    EXPECT_EQ(q.size(), 1u);
    q.push(news(4, 1, status::alive), false);                // a greeting waits for urgent news
    q.push(news(5, 1, status::dead));
    EXPECT_EQ(q.take(1, 3).at(0).id, numbered_id(5));
    EXPECT_EQ(retransmit_limit(4, 9), 4u);
    EXPECT_EQ(retransmit_limit(4, 1000), 16u);
}

TEST(GossipQueue, NewsThatDoesNotFitWaitsForTheNextMessageUncounted) {
    gossip_queue q;
    auto big = news(1, 1, status::alive);
    big.meta.assign(900, 'm');
    q.push(big);
    q.push(news(2, 1, status::alive));
    q.push(news(3, 1, status::alive));
    const auto small = protocol::gossip_update_size(news(2, 1, status::alive));
    // Room for the two small ones only: the big one, first in order, is passed over.
    auto first = q.take(8, 2, 2 * small + 10);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_NE(first[0].id, numbered_id(1));
    EXPECT_NE(first[1].id, numbered_id(1));
    // It was not counted as sent: the least sent, it goes first once it has the room.
    EXPECT_EQ(q.take(1, 2).at(0).id, numbered_id(1));
    EXPECT_EQ(q.take(8, 2).size(), 3u) << "each one's second time";
    EXPECT_TRUE(q.empty());
    // The default room is a datagram's, whatever the mesh.
    for (int i = 4; i < 12; ++i) {
        auto u = news(i, 1, status::alive);
        u.meta.assign(300, 'm');
        q.push(u);
    }
    std::size_t bytes = 0;
    for (const auto& u : q.take(8, 2)) bytes += protocol::gossip_update_size(u);
    EXPECT_LE(bytes, protocol::gossip_updates_room);
}

TEST(GossipMembership, ASmallMeshStaysQuietlyAlive) {
    sim s(3);
    s.know_all();
    s.run(std::chrono::seconds(60));
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(s.seen_as(s.ids[i], status::alive), 2u);
        EXPECT_EQ(s.nodes[i]->suspicions(), 0u);
        EXPECT_EQ(s.nodes[i]->health(), 0);
    }
    // One probe per period each, and its ack: constant, whatever the mesh's size.
    const double per_member_s = static_cast<double>(s.sent) / 3 / 60;
    EXPECT_GT(per_member_s, 8.0);
    EXPECT_LT(per_member_s, 12.0);
    // Woken only when something is due: the start and end of each probe period, never in a
    // loop between (an acked probe's indirect-probe time is not a deadline).
    const double wakes_per_member_s = static_cast<double>(s.ticks) / 3 / 60;
    EXPECT_LT(wakes_per_member_s, 12.0) << wakes_per_member_s;
}

TEST(GossipMembership, JoinersThatKnowOneMemberLearnEveryone) {
    config cfg;
    cfg.push_pull_interval = std::chrono::seconds(5);
    sim s(100, cfg);
    // Each joiner has heard one beacon (member 0's), and member 0 has heard each.
    for (std::size_t i = 1; i < 100; ++i) {
        s.nodes[i]->learn(update{s.ids[0], 1, status::alive, {}, "m0"}, s.now);
        s.nodes[0]->learn(update{s.ids[i], 1, status::alive, {}, "m" + std::to_string(i)}, s.now);
    }
    const auto start = s.now;
    std::optional<clock::duration> all_know_all;
    s.run(std::chrono::seconds(20), [&] {
        if (all_know_all) return;
        for (auto& n : s.nodes)
            if (n->live_members() != 99) return;
        all_know_all = s.now - start;
    });
    ASSERT_TRUE(all_know_all) << "100 members did not all learn each other in 20 s";
    std::printf("gossip: 100 members, each knowing one, all know all after %.2f s (push-pulls %zu)\n",
                std::chrono::duration<double>(*all_know_all).count(), s.push_pulls);
    for (auto& n : s.nodes) EXPECT_EQ(n->suspicions(), 0u);
}

// Kills member 0 of a converged mesh of `members`; returns how long until every survivor
// lists it as dead (or nullopt within `limit`), and checks nobody else was declared dead.
std::optional<double> kill_detection(std::size_t members, clock::duration limit) {
    sim s(members);
    s.know_all();
    const auto warm_up = std::chrono::seconds(2);
    s.run(warm_up);
    s.down[0] = true;
    const auto killed = s.now;
    std::optional<double> seen;
    while (!seen && s.now - killed < limit) {
        s.run(milliseconds(100));
        if (s.seen_as(s.ids[0], status::dead) == s.up()) seen = std::chrono::duration<double>(s.now - killed).count();
    }
    for (std::size_t i = 1; i < members; ++i)
        EXPECT_EQ(s.seen_as(s.ids[i], status::dead), 0u) << "member " << i << " falsely declared dead";
    std::printf("gossip: %zu members: kill -9 seen by all after %.1f s; %.1f messages/s per member\n", members,
                seen.value_or(-1),
                static_cast<double>(s.sent) / static_cast<double>(members) /
                    std::chrono::duration<double>(s.now - killed + warm_up).count());
    return seen;
}

TEST(GossipMembership, AKillIsSeenByEveryMember) {
    const auto seen = kill_detection(50, std::chrono::seconds(10));
    ASSERT_TRUE(seen);
    EXPECT_LT(*seen, 5.0);
}

TEST(GossipMembership, AKillIsSeenByAThousandMembersWithinFiveSeconds) {
    const auto seen = kill_detection(1000, std::chrono::seconds(15));
    ASSERT_TRUE(seen) << "1000 members did not all see the kill in 15 s";
    EXPECT_LT(*seen, 5.0);
}

TEST(GossipMembership, LossSuspectsButNeverKills) {
    sim s(100);
    s.know_all();
    s.loss = 0.05;
    s.run(std::chrono::seconds(60));
    std::size_t suspicions = 0, refutations = 0;
    for (std::size_t i = 0; i < 100; ++i) {
        EXPECT_EQ(s.seen_as(s.ids[i], status::dead), 0u) << "member " << i << " declared dead under 5% loss";
        suspicions += s.nodes[i]->suspicions();
        refutations += s.nodes[i]->refutations();
    }
    std::printf("gossip: 100 members, 5%% loss, 60 s: %zu suspicions, %zu refutations, 0 false deaths\n", suspicions,
                refutations);
}

TEST(GossipMembership, ASlowMemberSlowsItselfRatherThanAccusingOthers) {
    sim s(30);
    s.know_all();
    s.delay[0] = milliseconds(400);   // everything it sends arrives two periods late
    s.run(std::chrono::seconds(60));
    for (std::size_t i = 0; i < 30; ++i) EXPECT_EQ(s.seen_as(s.ids[i], status::dead), 0u) << "member " << i;
    EXPECT_GT(s.nodes[0]->health(), 0) << "its own missed acks should have told it";
}

TEST(GossipMembership, ASuspectedMemberRefutesWithALaterIncarnation) {
    sim s(20);
    s.know_all();
    // Member 1 is told, wrongly, that member 2 is suspect.
    s.nodes[1]->learn(update{s.ids[2], 1, status::suspect, s.ids[1], {}}, s.now);
    s.run(std::chrono::seconds(10));
    EXPECT_GE(s.nodes[2]->refutations(), 1u);
    EXPECT_EQ(s.nodes[2]->incarnation(), 2u);
    EXPECT_EQ(s.seen_as(s.ids[2], status::alive), 19u);
    for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(s.nodes[i]->find(s.ids[2])->incarnation, 2u);
}

TEST(GossipMembership, ALeaveReachesEveryoneAndTheTombstoneExpires) {
    config cfg;
    cfg.tombstone_for = std::chrono::seconds(5);
    sim s(40, cfg);
    s.know_all();
    s.run(std::chrono::seconds(2));
    s.nodes[3]->leave();
    s.collect(3);
    s.run(std::chrono::seconds(3));
    s.down[3] = true;
    EXPECT_EQ(s.seen_as(s.ids[3], status::left), 39u);
    s.run(std::chrono::seconds(6));
    for (std::size_t i = 0; i < 40; ++i)
        if (i != 3) EXPECT_FALSE(s.nodes[i]->find(s.ids[3])) << "member " << i << " kept the tombstone";
}

TEST(GossipMembership, AMetaChangeTravelsWithANewIncarnation) {
    sim s(10);
    s.know_all();
    s.nodes[4]->set_meta("serves orders.place");
    s.run(std::chrono::seconds(5));
    for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(s.nodes[i]->find(s.ids[4])->meta, "serves orders.place");
}

TEST(GossipMembership, BoundedAgainstAFloodOfStrangersAndRelayRequests) {
    config cfg;
    cfg.max_members = 10;
    cfg.max_relays = 4;
    gossip_membership m(numbered_id(0), "", 1, cfg, 1);
    const auto now = clock::time_point{} + std::chrono::hours(1);
    for (std::size_t i = 1; i < 100; ++i) m.learn(update{numbered_id(i), 1, status::alive, {}, {}}, now);
    EXPECT_EQ(m.live_members(), 10u);
    // News of strangers' deaths is not remembered.
    m.learn(update{numbered_id(500), 1, status::dead, {}, {}}, now);
    EXPECT_FALSE(m.find(numbered_id(500)));
    for (std::uint32_t i = 0; i < 50; ++i)
        m.on_message(numbered_id(1), message{kind::ping_req, i, numbered_id(2 + i % 5), {}}, now);
    EXPECT_EQ(m.take_outgoing().size(), 4u);   // one relayed ping each, no more
}

TEST(GossipMembership, UnreachableSuspectsAtOnce) {
    sim s(10);
    s.know_all();
    s.down[5] = true;
    s.nodes[0]->on_unreachable(s.ids[5], s.now);
    EXPECT_EQ(s.nodes[0]->find(s.ids[5])->state, status::suspect);
    s.run(std::chrono::seconds(5));
    EXPECT_EQ(s.seen_as(s.ids[5], status::dead), 9u);
}

}  // namespace
}  // namespace zmesh::discovery::gossip::test
