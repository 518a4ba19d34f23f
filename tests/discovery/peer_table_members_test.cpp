// SPDX-License-Identifier: MPL-2.0
// peer_table: members known by gossip alone (PROTOCOL.md §16.5). They join without a link or
// a HELLO, no silence or handshake timeout judges them, their first HELLO is believed as a
// newcomer's, and once linked they are judged as any linked peer; timers walk linked peers only.
#include "discovery/link_trust.hpp"
#include "peer_table_fixture.hpp"

#include <algorithm>

namespace zmesh::discovery::test {
namespace {

const node_id m = id_of(0xb7);

peer& add_m(peer_table& table, int now = 0) {
    const auto change = table.add_member(m, "found", "tcp://10.0.0.9:1", "tcp://10.0.0.9:2", {"sum", "echo"}, at(now));
    EXPECT_EQ(change.kind, change_kind::joined);
    return *table.find(m);
}

std::vector<node_id> linked_ids(const peer_table& table) {
    std::vector<node_id> ids;
    table.for_each_linked([&](const peer& p) { ids.push_back(p.id); });
    std::sort(ids.begin(), ids.end());
    return ids;
}

TEST_F(peer_table_liveness, a_member_known_by_gossip_joins_unlinked_and_silence_does_not_judge_it) {
    const peer& p = add_m(table);
    EXPECT_EQ(p.state, peer_state::joined);
    EXPECT_FALSE(p.linked);
    EXPECT_FALSE(p.heard_hello);
    EXPECT_TRUE(p.gossips);
    EXPECT_EQ(p.services, (std::vector<std::string>{"echo", "sum"})) << "sorted, as a HELLO's";
    EXPECT_EQ(p.advertised_router, "tcp://10.0.0.9:2") << "named in PEERS to nodes that do not gossip";
    EXPECT_TRUE(table.tick(at(10 * test_config().expired.count())).empty());
    EXPECT_NE(table.find(m), nullptr);
    EXPECT_EQ(table.handshake_timeouts(), 0u);
}

TEST_F(peer_table_liveness, its_first_hello_is_believed_as_a_newcomers_whatever_it_echoes) {
    peer& p = add_m(table);
    EXPECT_EQ(trust_hello(p, hello_from(m)), hello_trust::joins);
    table.linked(p, 0x77, at(100));
    EXPECT_EQ(trust_hello(p, hello_from(m)), hello_trust::joins) << "linked, its HELLO not come yet";
    auto h = hello_from(m);
    h.token = 0x55;
    EXPECT_FALSE(table.on_hello(p, h, at(150))) << "a member already: no second join";
    EXPECT_TRUE(p.heard_hello);
    EXPECT_EQ(p.their_token, 0x55u);
    EXPECT_EQ(trust_hello(p, hello_from(m)), hello_trust::unverified) << "now it must quote our token";
}

TEST_F(peer_table_liveness, once_linked_it_is_judged_as_a_linked_peer_from_then) {
    peer& p = add_m(table, 0);
    table.linked(p, 0x77, at(5000));
    EXPECT_EQ(p.our_token, 0x77u);
    EXPECT_TRUE(table.tick(at(5000 + test_config().evasive.count())).empty()) << "silence counts from linking";
    const auto changes = table.tick(at(5001 + test_config().evasive.count()));
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].kind, change_kind::evasive);
}

TEST_F(peer_table_liveness, timers_walk_the_linked_peers_only) {
    add_a();
    peer& p = add_m(table);
    EXPECT_EQ(linked_ids(table), std::vector<node_id>{a});
    table.linked(p, 0x77, at(10));
    EXPECT_EQ(linked_ids(table), (std::vector<node_id>{a, m}));
    table.remove(a, leave_reason::leave);
    EXPECT_EQ(linked_ids(table), std::vector<node_id>{m});
    // A dialled peer that never answers is dropped by the handshake timeout, and unwalked.
    table.add(id_of(0xc3), "c", "tcp://h:1", "tcp://h:2", at(20), 0xc3);
    (void)table.tick(at(21 + test_config().handshake.count()));
    EXPECT_EQ(table.find(id_of(0xc3)), nullptr);
    EXPECT_EQ(linked_ids(table), std::vector<node_id>{m});
    // A move takes the peers along, where they are.
    peer_table moved = std::move(table);
    EXPECT_EQ(linked_ids(moved), std::vector<node_id>{m});
    EXPECT_EQ(moved.find(m)->our_token, 0x77u);
}

}  // namespace
}  // namespace zmesh::discovery::test
