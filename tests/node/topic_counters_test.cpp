// SPDX-License-Identifier: MPL-2.0
// topic_counters: the last topic's shortcut must never hand out another topic's counter, nor
// one the table has since forgotten.
#include "node/topic_counters.hpp"

#include <gtest/gtest.h>

#include <string>

namespace zmesh::detail {
namespace {

TEST(topic_counters, a_new_topic_starts_at_zero_and_keeps_its_count) {
    topic_counters c(16);
    bool added = false;
    EXPECT_EQ(c.at("a", added), 0u);
    EXPECT_TRUE(added);
    ++c.at("a", added);
    EXPECT_FALSE(added);
    ++c.at("a", added);
    EXPECT_EQ(c.at("a", added), 2u);
    EXPECT_FALSE(added);
}

TEST(topic_counters, topics_that_alternate_or_share_a_prefix_keep_separate_counts) {
    topic_counters c(16);
    bool added = false;
    for (int i = 0; i < 5; ++i) {
        ++c.at("orders", added);
        c.at("orders.eu", added) += 10;
        c.at("order", added) += 100;
    }
    EXPECT_EQ(c.at("orders", added), 5u);
    EXPECT_EQ(c.at("orders.eu", added), 50u);
    EXPECT_EQ(c.at("order", added), 500u);
    EXPECT_EQ(c.size(), 3u);
}

TEST(topic_counters, the_last_topic_survives_the_table_growing_and_rehashing) {
    topic_counters c(100000);
    bool added = false;
    c.at("kept", added) = 7;
    for (int i = 0; i < 5000; ++i) c.at(std::to_string(i), added) = 1;
    EXPECT_EQ(c.at("kept", added), 7u);
    EXPECT_FALSE(added);
    ++c.at("kept", added);   // through the shortcut now
    EXPECT_EQ(c.at("4999", added), 1u);
    EXPECT_EQ(c.at("kept", added), 8u);
}

TEST(topic_counters, past_the_limit_the_table_starts_again_and_forgets_the_shortcut) {
    topic_counters c(3);
    bool added = false;
    c.at("a", added) = 1;
    c.at("b", added) = 2;
    c.at("c", added) = 3;   // the shortcut now points at c
    EXPECT_EQ(c.at("b", added), 2u);   // a known topic at the limit: no restart
    EXPECT_EQ(c.size(), 3u);
    EXPECT_EQ(c.at("d", added), 0u);   // a fourth: everything before is forgotten
    EXPECT_TRUE(added);
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(c.at("b", added), 0u);
    EXPECT_TRUE(added);
    EXPECT_EQ(c.at("c", added), 0u);
    EXPECT_TRUE(added);
}

TEST(topic_counters, forget_if_drops_the_matching_topics_and_the_shortcut_to_them) {
    topic_counters c(10);
    bool added = false;
    c.at("t.a", added) = 1;
    c.at("u.b", added) = 2;
    c.at("t.c", added) = 3;   // the shortcut now points at t.c
    c.forget_if([](std::string_view t) { return t.starts_with("t."); });
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(c.at("t.c", added), 0u);   // not the forgotten 3 through the shortcut
    EXPECT_TRUE(added);
    EXPECT_EQ(c.at("u.b", added), 2u);
    EXPECT_FALSE(added);
}

}  // namespace
}  // namespace zmesh::detail
