// SPDX-License-Identifier: MPL-2.0
// A consumer's dispatch rules without sockets or a log: one member at a time per record,
// least loaded first, redelivery on nak, ack wait and a member leaving, attempt-fenced acks,
// dead letters after max deliveries, a position that only moves over what is done.
#include "node/streams/consumer_group.hpp"

#include <gtest/gtest.h>

#include <map>

namespace zmesh::detail::streams {
namespace {

using namespace std::chrono_literals;
using clock = consumer_group::clock;
using verdict = consumer_group::verdict;

class consumer_group_test : public ::testing::Test {
protected:
    clock::time_point at(int ms) const { return t0_ + std::chrono::milliseconds(ms); }
    static std::map<std::uint64_t, consumer_group::dispatch> by_seq(const std::vector<consumer_group::dispatch>& d) {
        std::map<std::uint64_t, consumer_group::dispatch> out;
        for (const auto& x : d) out[x.seq] = x;
        return out;
    }
    group_config config(std::uint32_t max_in_flight = 10) {
        group_config c;
        c.ack_wait = 100ms;
        c.max_deliveries = 3;
        c.max_in_flight = max_in_flight;
        return c;
    }

    clock::time_point t0_ = clock::now();
    protocol::node_id a_ = protocol::node_id::random(), b_ = protocol::node_id::random();
};

TEST_F(consumer_group_test, each_record_goes_to_one_member_the_least_loaded_first) {
    consumer_group g(config(), 0);
    g.member_joined(a_);
    g.member_joined(b_);
    const auto d = g.next(6, at(0));
    ASSERT_EQ(d.size(), 6u);
    for (std::uint64_t i = 0; i < 6; ++i) {
        EXPECT_EQ(d[i].seq, i + 1);
        EXPECT_EQ(d[i].attempt, 1u);
    }
    EXPECT_EQ(g.in_flight(a_), 3u);
    EXPECT_EQ(g.in_flight(b_), 3u);
    EXPECT_TRUE(g.next(6, at(1)).empty());   // nothing new, nothing back
}

TEST_F(consumer_group_test, members_that_ack_at_once_take_turns) {
    consumer_group g(config(), 0);
    g.member_joined(a_);
    g.member_joined(b_);
    std::map<protocol::node_id, int> handed;
    // Each record acked before the next is dispatched: both members are always at zero.
    for (std::uint64_t seq = 1; seq <= 10; ++seq) {
        const auto d = g.next(seq, at(0));
        ASSERT_EQ(d.size(), 1u);
        ++handed[d[0].member];
        EXPECT_EQ(g.ack(d[0].member, d[0].seq, d[0].attempt), verdict::done);
    }
    EXPECT_EQ(handed[a_], 5);
    EXPECT_EQ(handed[b_], 5);
}

TEST_F(consumer_group_test, a_member_gets_no_more_than_its_room) {
    consumer_group g(config(2), 0);
    g.member_joined(a_);
    EXPECT_EQ(g.next(10, at(0)).size(), 2u);
    EXPECT_TRUE(g.next(10, at(0)).empty());
    EXPECT_EQ(g.ack(a_, 1, 1), verdict::done);
    const auto d = g.next(10, at(1));
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].seq, 3u);
}

TEST_F(consumer_group_test, the_position_moves_only_over_records_that_are_done) {
    consumer_group g(config(), 10);
    g.member_joined(a_);
    g.next(14, at(0));   // 11..14
    EXPECT_EQ(g.ack(a_, 12, 1), verdict::done);
    EXPECT_EQ(g.position(), 10u);   // 11 is still out
    EXPECT_EQ(g.ack(a_, 11, 1), verdict::done);
    EXPECT_EQ(g.position(), 12u);
    EXPECT_EQ(g.term(a_, 13, 1), verdict::done);
    EXPECT_EQ(g.ack(a_, 14, 1), verdict::done);
    EXPECT_EQ(g.position(), 14u);
}

TEST_F(consumer_group_test, a_nak_brings_the_record_back_after_its_delay_as_a_new_attempt) {
    consumer_group g(config(), 0);
    g.member_joined(a_);
    g.next(1, at(0));
    EXPECT_EQ(g.nak(a_, 1, 1, 50ms, at(10)), verdict::done);
    EXPECT_TRUE(g.next(1, at(20)).empty());   // not yet
    EXPECT_EQ(g.next_deadline(), at(60));
    const auto d = g.next(1, at(60));
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].attempt, 2u);
    EXPECT_EQ(g.redeliveries(), 1u);
}

TEST_F(consumer_group_test, a_record_not_acked_within_the_ack_wait_comes_back_unless_in_progress) {
    consumer_group g(config(), 0);
    g.member_joined(a_);
    g.next(2, at(0));
    EXPECT_EQ(g.in_progress(a_, 2, 1, at(90)), verdict::done);   // 2's wait starts again
    g.expire(at(100));
    EXPECT_EQ(g.waiting_redelivery(), 1u);
    const auto d = by_seq(g.next(2, at(100)));
    ASSERT_TRUE(d.contains(1));
    EXPECT_EQ(d.at(1).attempt, 2u);
    EXPECT_FALSE(d.contains(2));
}

TEST_F(consumer_group_test, a_members_records_go_to_another_at_once_when_it_leaves) {
    consumer_group g(config(), 0);
    g.member_joined(a_);
    g.member_joined(b_);
    const auto first = by_seq(g.next(4, at(0)));
    g.member_left(a_, at(5));
    const auto again = g.next(4, at(5));
    ASSERT_EQ(again.size(), 2u);   // a's two
    for (const auto& d : again) {
        EXPECT_EQ(d.member, b_);
        EXPECT_EQ(d.attempt, 2u);
        EXPECT_EQ(first.at(d.seq).member, a_);
    }
    EXPECT_EQ(g.in_flight(b_), 4u);
}

TEST_F(consumer_group_test, a_late_ack_from_a_superseded_attempt_is_refused_and_counted) {
    consumer_group g(config(), 0);
    g.member_joined(a_);
    g.member_joined(b_);
    g.next(1, at(0));              // 1 -> a (the least loaded of two empty ones: the first)
    const auto holder = g.in_flight(a_) ? a_ : b_, other = holder == a_ ? b_ : a_;
    g.expire(at(100));             // a's wait ran out
    const auto d = g.next(1, at(100));
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].attempt, 2u);
    EXPECT_EQ(g.ack(holder, 1, 1), verdict::stale);   // too late: not credited
    EXPECT_EQ(g.stale_acks(), 1u);
    EXPECT_EQ(g.position(), 0u);
    EXPECT_EQ(g.ack(d[0].member, 1, 2), verdict::done);
    EXPECT_EQ(g.position(), 1u);
    EXPECT_EQ(g.ack(other, 1, 2), verdict::stale);    // done already
    EXPECT_EQ(g.ack(a_, 99, 1), verdict::unknown);    // never handed out
}

TEST_F(consumer_group_test, a_record_that_keeps_failing_becomes_a_dead_letter_after_max_deliveries) {
    consumer_group g(config(), 0);
    g.member_joined(a_);
    for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
        const auto d = g.next(2, at(static_cast<int>(attempt)));
        ASSERT_FALSE(d.empty());
        EXPECT_EQ(by_seq(d).at(1).attempt, attempt);
        EXPECT_EQ(g.nak(a_, 1, attempt, 0ms, at(static_cast<int>(attempt)), "boom"), verdict::done);
    }
    const auto dead = g.take_dead_letters();
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].seq, 1u);
    EXPECT_EQ(dead[0].attempts, 3u);
    EXPECT_EQ(dead[0].last_error, "boom");
    EXPECT_TRUE(g.take_dead_letters().empty());
    EXPECT_EQ(g.ack(a_, 2, 1), verdict::done);   // the others kept flowing
    EXPECT_EQ(g.position(), 2u);                   // a dead letter is done here
}

TEST_F(consumer_group_test, an_ack_wait_backoff_spaces_the_attempts) {
    auto c = config();
    c.backoff = {10ms, 40ms};
    consumer_group g(c, 0);
    g.member_joined(a_);
    g.next(1, at(0));
    g.expire(at(100));                          // attempt 1 timed out: back after 10 ms
    EXPECT_TRUE(g.next(1, at(105)).empty());
    ASSERT_EQ(g.next(1, at(110)).size(), 1u);
    g.expire(at(210));                          // attempt 2 timed out: back after 40 ms
    EXPECT_TRUE(g.next(1, at(240)).empty());
    EXPECT_EQ(g.next(1, at(250)).size(), 1u);
}

TEST_F(consumer_group_test, with_no_member_nothing_is_dispatched_and_nothing_is_lost) {
    consumer_group g(config(), 0);
    EXPECT_TRUE(g.next(5, at(0)).empty());
    g.member_joined(a_);
    EXPECT_EQ(g.next(5, at(1)).size(), 5u);
}

TEST_F(consumer_group_test, records_trimmed_by_retention_are_skipped_unless_held) {
    consumer_group g(config(2), 0);
    g.member_joined(a_);
    g.next(10, at(0));          // 1, 2 out
    g.trimmed_before(6);        // 1..5 are gone from the log
    const auto d = g.next(10, at(1));
    EXPECT_TRUE(d.empty());     // a is full
    EXPECT_EQ(g.ack(a_, 1, 1), verdict::done);
    EXPECT_EQ(g.position(), 1u);   // 2 is still held
    EXPECT_EQ(g.ack(a_, 2, 1), verdict::done);
    EXPECT_EQ(g.position(), 5u);   // 3..5 skipped
    const auto after = g.next(10, at(2));
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after[0].seq, 6u);
}

}  // namespace
}  // namespace zmesh::detail::streams
