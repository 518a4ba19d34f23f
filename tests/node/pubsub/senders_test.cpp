// SPDX-License-Identifier: MPL-2.0
// senders: a jump in a sender's sequence on a topic is a gap; the first event of a topic and
// a restarted count are not; events in handshake wait, bounded, until the sender joins.
#include "node/pubsub/senders.hpp"

#include <gtest/gtest.h>

namespace zmesh::detail {
namespace {

const auto a = protocol::node_id::random();

TEST(senders, only_dialled_peers_are_senders) {
    senders s;
    EXPECT_EQ(s.find(a), nullptr);
    s.dialled(a, "a");
    ASSERT_NE(s.find(a), nullptr);
    EXPECT_EQ(s.find(a)->name, "a");
    EXPECT_FALSE(s.find(a)->joined);
}

TEST(senders, a_jump_in_sequence_is_a_gap_per_topic) {
    senders s;
    s.dialled(a, "a");
    auto& x = *s.find(a);
    EXPECT_EQ(s.take(x, "t", 5), 0u) << "the first event sets the baseline";
    EXPECT_EQ(s.take(x, "t", 6), 0u);
    EXPECT_EQ(s.take(x, "t", 9), 2u);
    EXPECT_EQ(s.take(x, "u", 100), 0u) << "another topic has its own baseline";
    EXPECT_EQ(s.take(x, "t", 1), 0u) << "a restarted count is no gap";
    EXPECT_EQ(s.take(x, "t", 2), 0u);
    EXPECT_EQ(s.of(a).events_in, 6u);
    EXPECT_EQ(s.of(a).gaps, 2u);
}

TEST(senders, forgotten_topics_start_a_new_baseline) {
    senders s;
    s.dialled(a, "a");
    auto& x = *s.find(a);
    s.take(x, "orders.1", 1);
    s.take(x, "stock.1", 1);
    s.forget_topics([](std::string_view t) { return t.starts_with("orders."); });
    EXPECT_EQ(s.take(x, "orders.1", 50), 0u);
    EXPECT_EQ(s.take(x, "stock.1", 50), 48u);
}

TEST(senders, events_in_handshake_wait_bounded_until_the_sender_joins) {
    senders s;
    s.dialled(a, "a");
    auto& x = *s.find(a);
    for (std::size_t i = 0; i < senders::max_early_events; ++i) ASSERT_TRUE(s.hold(x, zmq::message_t(std::size_t{8})));
    EXPECT_FALSE(s.hold(x, zmq::message_t(std::size_t{8}))) << "past the count";
    const auto held = s.joined(a);
    EXPECT_EQ(held.size(), senders::max_early_events);
    EXPECT_TRUE(s.find(a)->joined);
    EXPECT_TRUE(s.joined(a).empty()) << "handed over once";
}

TEST(senders, held_bytes_are_bounded_and_dropped_when_it_never_joins) {
    senders s;
    s.dialled(a, "a");
    auto& x = *s.find(a);
    ASSERT_TRUE(s.hold(x, zmq::message_t(senders::max_early_bytes - 10)));
    EXPECT_FALSE(s.hold(x, zmq::message_t(std::size_t{11}))) << "past the bytes";
    EXPECT_TRUE(s.hold(x, zmq::message_t(std::size_t{10})));
    EXPECT_EQ(s.drop_early(a), 2u);
    EXPECT_TRUE(s.joined(a).empty());
}

}  // namespace
}  // namespace zmesh::detail
