// SPDX-License-Identifier: MPL-2.0
// peer_table version: it changes with what a cache of the table depends on (who is there,
// in which state, serving what), and not with the traffic of a steady mesh, or a cache
// would be rebuilt on every message.
#include "peer_table_fixture.hpp"

using namespace zmesh::discovery;
using namespace zmesh::discovery::test;

TEST_F(peer_table_liveness, version_changes_with_members_states_and_services_only) {
    auto v = table.version();
    const auto changed = [&] {
        const bool c = table.version() != v;
        v = table.version();
        return c;
    };
    peer& p = add_a();
    EXPECT_TRUE(changed());
    ASSERT_TRUE(table.on_hello(p, hello_from(a), at(10)));   // joined, with its services
    EXPECT_TRUE(changed());
    EXPECT_FALSE(table.on_traffic(p, at(20)));
    EXPECT_TRUE(table.tick(at(40)).empty());
    EXPECT_FALSE(changed()) << "traffic and quiet ticks left the table as it was";

    auto again = hello_from(a);
    again.services = {"echo"};   // a HELLO again: its services may differ
    EXPECT_FALSE(table.on_hello(p, again, at(50)));
    EXPECT_TRUE(changed());
    EXPECT_EQ(p.services, again.services);

    ASSERT_EQ(table.tick(at(50 + 1100)).size(), 1u);   // silent (its link never came up)
    EXPECT_EQ(p.state, peer_state::evasive);
    EXPECT_TRUE(changed());
    ASSERT_TRUE(table.on_traffic(p, at(1200)));   // recovered
    EXPECT_TRUE(changed());
    ASSERT_TRUE(table.on_disconnect(p, at(1300)));   // joined -> evasive at once
    EXPECT_TRUE(changed());
    ASSERT_TRUE(table.remove(a, leave_reason::leave));
    EXPECT_TRUE(changed());
    EXPECT_FALSE(table.remove(a, leave_reason::leave));
    EXPECT_FALSE(changed()) << "removing nobody changes nothing";
}

TEST_F(peer_table_liveness, version_changes_when_a_handshake_times_out) {
    add_a();
    const auto v = table.version();
    EXPECT_TRUE(table.tick(at(2500)).empty());   // never answered: dropped, no change
    EXPECT_FALSE(table.find(a));
    EXPECT_NE(table.version(), v);
}
