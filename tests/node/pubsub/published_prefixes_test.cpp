// SPDX-License-Identifier: MPL-2.0
// What a node's meta says it publishes, without a socket: declared prefixes, a new topic's
// prefix up to its first '.', topics already under a prefix adding nothing, and past the
// bound no list at all (it may publish anything).
#include "node/pubsub/published_prefixes.hpp"

#include <gtest/gtest.h>

namespace zmesh::detail {
namespace {

using list = std::vector<std::string>;

TEST(published_prefixes, a_new_topic_adds_its_prefix_up_to_the_first_dot) {
    published_prefixes p({});
    EXPECT_EQ(p.list(), list{}) << "listed and empty: it publishes nothing yet";
    EXPECT_TRUE(p.note("orders.eu.created"));
    EXPECT_FALSE(p.note("orders.us.paid")) << "under orders. already";
    EXPECT_TRUE(p.note("heartbeat"));   // no dot: the whole topic
    EXPECT_FALSE(p.note("heartbeat"));
    EXPECT_EQ(p.list(), (list{"heartbeat", "orders."}));
}

TEST(published_prefixes, declared_prefixes_are_listed_from_the_start_and_cover_their_topics) {
    published_prefixes p({"orders.eu.", "audit"});
    EXPECT_EQ(p.list(), (list{"audit", "orders.eu."}));
    EXPECT_FALSE(p.note("orders.eu.created"));
    EXPECT_FALSE(p.note("audit.log"));
    EXPECT_TRUE(p.note("orders.us.created"));
    EXPECT_EQ(p.list(), (list{"audit", "orders.", "orders.eu."}));
}

TEST(published_prefixes, past_the_bound_none_are_listed) {
    published_prefixes p({});
    for (std::size_t i = 0; i < protocol::max_published_prefixes; ++i)
        ASSERT_TRUE(p.note("t" + std::to_string(i) + ".x"));
    ASSERT_TRUE(p.list());
    EXPECT_EQ(p.list()->size(), protocol::max_published_prefixes);
    EXPECT_TRUE(p.note("one.more")) << "the meta changes once more: to no list";
    EXPECT_FALSE(p.list());
    EXPECT_FALSE(p.note("and.another"));
    EXPECT_FALSE(p.list());
}

}  // namespace
}  // namespace zmesh::detail
