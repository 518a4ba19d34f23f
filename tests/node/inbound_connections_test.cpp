// SPDX-License-Identifier: MPL-2.0
// inbound_connections: the subscription bounds per connection and in all, and the keys of
// accepted connections, without sockets.
#include "node/inbound_connections.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace zmesh::detail {
namespace {

using verdict = inbound_connections::verdict;

subscription_limits small_limits() {
    subscription_limits l;
    l.max_prefix = 8;
    l.max_per_connection = 3;
    l.max_bytes_per_connection = 12;
    l.max_bytes_total = 20;
    return l;
}

TEST(inbound_connections, prefix_over_its_bound_is_refused_and_the_connection_stays_refused) {
    inbound_connections c(small_limits());
    c.accepted(listener::pub, 7);
    EXPECT_EQ(c.subscribe(7, "12345678"), verdict::applied);
    EXPECT_EQ(c.subscribe(7, "123456789"), verdict::refused);
    EXPECT_EQ(c.subscribe(7, "a"), verdict::refused);   // being cut: nothing more
    EXPECT_EQ(c.subscription_bytes(), 8u);
}

TEST(inbound_connections, one_prefix_past_the_count_is_refused) {
    inbound_connections c(small_limits());
    for (const char* p : {"a", "b", "c"}) EXPECT_EQ(c.subscribe(7, p), verdict::applied);
    EXPECT_EQ(c.subscribe(7, "a"), verdict::repeated);   // a repeat adds no prefix: not counted
    EXPECT_EQ(c.subscribe(7, "d"), verdict::refused);
}

TEST(inbound_connections, bytes_are_bounded_per_connection_and_in_all) {
    inbound_connections c(small_limits());
    EXPECT_EQ(c.subscribe(1, "aaaaaaa"), verdict::applied);   // 7
    EXPECT_EQ(c.subscribe(1, "bbbbbb"), verdict::refused);    // 13 > 12 for one connection
    EXPECT_EQ(c.subscribe(2, "cccccccc"), verdict::applied);  // 15 in all
    EXPECT_EQ(c.subscribe(3, "dddddd"), verdict::refused);    // 21 > 20 in all
    EXPECT_EQ(c.subscription_bytes(), 15u);
}

TEST(inbound_connections, unsubscribing_and_closing_give_the_bytes_back) {
    inbound_connections c(small_limits());
    c.subscribe(1, "aaaaaaaa");
    c.subscribe(2, "bbbbbbbb");
    c.unsubscribe(1, "aaaaaaaa");
    c.unsubscribe(1, "never-subscribed");   // gives back nothing it did not take
    EXPECT_EQ(c.subscription_bytes(), 8u);
    EXPECT_EQ(c.subscribe(1, "cccc"), verdict::applied);
    c.closed(2);
    EXPECT_EQ(c.subscription_bytes(), 4u);
    EXPECT_EQ(c.prefixes_of(2), nullptr);
}

TEST(inbound_connections, a_descriptor_accepted_again_starts_afresh) {
    // Its close was not reported yet: the old connection's record must not carry over.
    inbound_connections c(small_limits());
    c.subscribe(5, "a");
    c.subscribe(5, "b");
    c.subscribe(5, "c");
    c.accepted(listener::pub, 5);
    EXPECT_EQ(c.subscription_bytes(), 0u);
    EXPECT_EQ(c.subscribe(5, "d"), verdict::applied);
}

TEST(inbound_connections, connections_are_found_by_revoked_key) {
    inbound_connections c;
    curve_key good{}, bad{};
    bad[0] = 1;
    c.accepted(listener::router, 3);
    c.keyed(listener::router, 3, bad);
    c.keyed(listener::pub, 4, good);
    c.keyed(listener::pub, 6, bad);
    c.accepted(listener::pub, 9);   // no key seen: never named
    auto found = c.keyed_unless([&](const curve_key& k) { return k == good; });
    std::sort(found.begin(), found.end());
    const std::vector<std::pair<listener, int>> want{{listener::pub, 6}, {listener::router, 3}};
    EXPECT_EQ(found, want);
}

}  // namespace
}  // namespace zmesh::detail
