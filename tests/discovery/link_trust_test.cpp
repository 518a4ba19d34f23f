// SPDX-License-Identifier: MPL-2.0
// link_trust: which HELLO and LEAVE a node believes, and when a newcomer may take a known
// peer's endpoints; and the table lookups those rules need (holder_of, given).
#include "discovery/link_trust.hpp"
#include "peer_table_fixture.hpp"

#include <gtest/gtest.h>

namespace zmesh::discovery::test {
namespace {

constexpr std::uint64_t token_a = 0xa1a1;   // what peer_table_liveness gives a

hello hello_echoing(const node_id& id, std::uint64_t echo) {
    auto h = hello_from(id);
    h.echo = echo;
    return h;
}

TEST_F(peer_table_liveness, first_hello_joins_whatever_it_echoes) {
    // It may not have our HELLO yet, or have it for another of our entries.
    auto& p = add_a();
    EXPECT_EQ(trust_hello(p, hello_echoing(a, 0)), hello_trust::joins);
    EXPECT_EQ(trust_hello(p, hello_echoing(a, 12345)), hello_trust::joins);
}

TEST_F(peer_table_liveness, hello_of_a_member_must_quote_our_token) {
    auto& p = joined_a();
    EXPECT_EQ(trust_hello(p, hello_echoing(a, token_a)), hello_trust::authentic);
    EXPECT_EQ(trust_hello(p, hello_echoing(a, 0)), hello_trust::unverified);
    EXPECT_EQ(trust_hello(p, hello_echoing(a, token_a + 1)), hello_trust::unverified);
}

TEST_F(peer_table_liveness, leave_must_quote_our_token) {
    auto& p = joined_a();
    EXPECT_TRUE(leave_authentic(p, token_a));
    EXPECT_FALSE(leave_authentic(p, 0));   // a revision-7 LEAVE, or a stranger's
    EXPECT_FALSE(leave_authentic(p, token_a ^ 1));
}

TEST_F(peer_table_liveness, hello_takes_the_token_the_peer_gave_us) {
    auto& p = add_a();
    auto h = hello_from(a);
    h.token = 777;
    table.on_hello(p, h, at(1));
    EXPECT_EQ(p.their_token, 777u);
}

TEST_F(peer_table_liveness, endpoints_of_a_live_or_connecting_peer_are_held) {
    auto& p = add_a();
    EXPECT_EQ(claim_endpoints(p), endpoint_claim::held);   // in handshake
    table.on_hello(p, hello_from(a), at(1));
    table.on_link_up(p, at(1));
    EXPECT_EQ(claim_endpoints(p), endpoint_claim::held);
}

TEST_F(peer_table_liveness, endpoints_of_a_peer_whose_link_failed_are_taken_over) {
    auto& p = joined_a();
    table.on_link_up(p, at(1));
    table.on_disconnect(p, at(2));
    EXPECT_EQ(claim_endpoints(p), endpoint_claim::taken_over);
    table.on_link_up(p, at(3));   // back: held again
    EXPECT_EQ(claim_endpoints(p), endpoint_claim::held);
}

TEST_F(peer_table_liveness, holder_of_finds_another_peer_by_either_endpoint) {
    add_a();
    const auto other = id_of(0xb2);
    EXPECT_EQ(table.holder_of("tcp://192.0.2.1:6001", "tcp://x:1", other)->id, a);
    EXPECT_EQ(table.holder_of("tcp://x:1", "tcp://192.0.2.1:6002", other)->id, a);
    EXPECT_EQ(table.holder_of("tcp://192.0.2.1:6001", "tcp://192.0.2.1:6002", a), nullptr);
    EXPECT_EQ(table.holder_of("tcp://x:1", "tcp://x:2", other), nullptr);
}

TEST_F(peer_table_liveness, given_finds_the_peer_a_token_went_to) {
    add_a();
    EXPECT_EQ(table.given(token_a)->id, a);
    EXPECT_EQ(table.given(token_a + 1), nullptr);
    EXPECT_EQ(table.given(0), nullptr);   // 0 is no token
}

}  // namespace
}  // namespace zmesh::discovery::test
