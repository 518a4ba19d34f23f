// SPDX-License-Identifier: MPL-2.0
// peer_table, for a node that gossips: a peer gossip calls dead is doubted — evasive, and
// left only if it stays silent — and, links carrying no libzmq heartbeat, the peers that do
// not gossip are judged by their silence even while their link is up.
#include "peer_table_fixture.hpp"

using namespace zmesh::discovery;
using namespace zmesh::discovery::test;

TEST_F(peer_table_liveness, a_doubted_peer_is_evasive_and_leaves_expired_unless_it_shows_traffic) {
    peer& p = joined_a();
    (void)table.on_link_up(p, at(1));
    const auto c = table.doubt(p, at(100));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, change_kind::evasive);
    EXPECT_FALSE(table.doubt(p, at(150)));   // doubted once
    EXPECT_TRUE(table.tick(at(1000)).empty());   // its link is up, but it has `evasive`
    const auto gone = table.tick(at(1101));
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_EQ(gone[0].kind, change_kind::left);
    EXPECT_EQ(gone[0].reason, leave_reason::expired);
    EXPECT_EQ(table.find(a), nullptr);
}

TEST_F(peer_table_liveness, a_doubted_peer_that_shows_traffic_recovers_and_stays) {
    peer& p = joined_a();
    (void)table.on_link_up(p, at(1));
    ASSERT_TRUE(table.doubt(p, at(100)));
    const auto back = table.on_traffic(p, at(200));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->kind, change_kind::recovered);
    EXPECT_TRUE(table.tick(at(5000)).empty());
    EXPECT_EQ(table.find(a)->state, peer_state::joined);
}

TEST_F(peer_table_liveness, a_connecting_peer_is_not_doubted) {
    peer& p = add_a();
    EXPECT_FALSE(table.doubt(p, at(10)));
    EXPECT_FALSE(p.doubted_since);
}

TEST(peer_table_without_link_heartbeats, silence_judges_a_peer_that_does_not_gossip_even_on_an_up_link) {
    peer_table table(test_config(), /*links_heartbeated=*/false);
    const auto plain = id_of(0xb1), gossiping = id_of(0xb2);
    for (const auto& [id, flags] : {std::pair{plain, std::uint8_t{0}}, std::pair{gossiping, zmesh::protocol::hello_flag_gossip}}) {
        peer& p = table.add(id, "x", "tcp://192.0.2.1:" + std::to_string(id.bytes()[0]), "tcp://192.0.2.2:1", at(0), 1);
        ASSERT_TRUE(table.on_hello(p, hello_from(id, flags), at(0)));
        (void)table.on_link_up(p, at(0));
    }
    EXPECT_TRUE(table.find(gossiping)->gossips);
    const auto evasive = table.tick(at(1001));
    ASSERT_EQ(evasive.size(), 1u);
    EXPECT_EQ(evasive[0].snapshot.id, plain);
    const auto gone = table.tick(at(3001));
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_EQ(gone[0].kind, change_kind::left);
    EXPECT_EQ(table.find(plain), nullptr);
    EXPECT_NE(table.find(gossiping), nullptr);   // gossip judges it, not its link's silence
}
