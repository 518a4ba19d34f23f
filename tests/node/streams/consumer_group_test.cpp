// SPDX-License-Identifier: MPL-2.0
// A consumer's dispatch rules without sockets or a log: one member at a time per record,
// least loaded first, redelivery on nak, ack wait and a member leaving, attempt-fenced acks,
// dead letters after max deliveries, a position that only moves over what is done; ordered
// by key, a key's records one at a time in order, through naks, ack waits, members leaving,
// dead letters and terms, while other keys flow.
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

// ---- ordered by key ---------------------------------------------------------------------

class ordered_group_test : public consumer_group_test {
protected:
    group_config ordered(std::uint32_t max_in_flight = 10) {
        auto c = config(max_in_flight);
        c.ordered_by_key = true;
        return c;
    }
    // The records' keys, as the log would give them.
    consumer_group::key_reader reader() {
        return [this](std::uint64_t seq) {
            const auto it = keys_.find(seq);
            return it == keys_.end() ? std::string() : it->second;
        };
    }
    std::vector<std::uint64_t> seqs(const std::vector<consumer_group::dispatch>& d) {
        std::vector<std::uint64_t> out;
        for (const auto& x : d) out.push_back(x.seq);
        return out;
    }
    std::map<std::uint64_t, std::string> keys_;
};

using seq_list = std::vector<std::uint64_t>;

TEST_F(ordered_group_test, a_keys_records_go_one_at_a_time_in_order_while_other_keys_flow) {
    keys_ = {{1, "A"}, {2, "A"}, {3, "B"}, {4, "A"}, {5, "C"}, {6, ""}, {7, ""}};
    consumer_group g(ordered(), 0);
    g.member_joined(a_);
    g.member_joined(b_);
    const auto d = g.next(7, at(0), reader());
    EXPECT_EQ(seqs(d), (seq_list{1, 3, 5, 6, 7}));   // 2 and 4 wait for 1; no key is no wait
    EXPECT_EQ(g.held_back(), 2u);
    const auto one = by_seq(d).at(1), three = by_seq(d).at(3);
    EXPECT_EQ(g.ack(three.member, 3, 1), verdict::done);
    EXPECT_TRUE(g.next(7, at(1), reader()).empty());   // B's end frees nothing of A
    EXPECT_EQ(g.ack(one.member, 1, 1), verdict::done);
    const auto two = g.next(7, at(2), reader());
    ASSERT_EQ(seqs(two), seq_list{2});
    EXPECT_EQ(two[0].attempt, 1u);
    EXPECT_EQ(g.ack(two[0].member, 2, 1), verdict::done);
    EXPECT_EQ(seqs(g.next(7, at(3), reader())), seq_list{4});
    EXPECT_EQ(g.held_back(), 0u);
}

TEST_F(ordered_group_test, a_naked_record_comes_back_before_later_records_of_its_key) {
    keys_ = {{1, "A"}, {2, "A"}, {3, "B"}};
    consumer_group g(ordered(), 0);
    g.member_joined(a_);
    EXPECT_EQ(seqs(g.next(3, at(0), reader())), (seq_list{1, 3}));
    EXPECT_EQ(g.nak(a_, 1, 1, 50ms, at(0)), verdict::done);
    EXPECT_TRUE(g.next(3, at(10), reader()).empty());   // 2 waits for 1's next attempt
    const auto again = g.next(3, at(50), reader());
    ASSERT_EQ(seqs(again), seq_list{1});
    EXPECT_EQ(again[0].attempt, 2u);
    EXPECT_EQ(g.ack(a_, 1, 2), verdict::done);
    EXPECT_EQ(seqs(g.next(3, at(51), reader())), seq_list{2});
}

TEST_F(ordered_group_test, a_record_whose_ack_wait_ran_out_comes_back_before_later_records_of_its_key) {
    keys_ = {{1, "A"}, {2, "A"}};
    consumer_group g(ordered(), 0);
    g.member_joined(a_);
    g.next(2, at(0), reader());
    g.expire(at(100));
    const auto again = g.next(2, at(100), reader());
    ASSERT_EQ(seqs(again), seq_list{1});
    EXPECT_EQ(again[0].attempt, 2u);
    EXPECT_EQ(g.ack(a_, 1, 1), verdict::stale);   // the late ack frees nothing
    EXPECT_TRUE(g.next(2, at(101), reader()).empty());
    EXPECT_EQ(g.ack(a_, 1, 2), verdict::done);
    EXPECT_EQ(seqs(g.next(2, at(102), reader())), seq_list{2});
}

TEST_F(ordered_group_test, a_leaving_members_record_goes_to_another_before_later_records_of_its_key) {
    keys_ = {{1, "A"}, {2, "A"}, {3, "B"}};
    consumer_group g(ordered(), 0);
    g.member_joined(a_);
    g.next(3, at(0), reader());   // 1 and 3 to a: the only member
    g.member_joined(b_);
    g.member_left(a_, at(1));
    const auto d = g.next(3, at(1), reader());
    EXPECT_EQ(seqs(d), (seq_list{1, 3}));   // again, to b; 2 still waits for 1
    EXPECT_EQ(by_seq(d).at(1).attempt, 2u);
    EXPECT_EQ(g.ack(b_, 1, 2), verdict::done);
    EXPECT_EQ(seqs(g.next(3, at(2), reader())), seq_list{2});
}

TEST_F(ordered_group_test, a_dead_letter_or_a_term_frees_its_key) {
    keys_ = {{1, "A"}, {2, "A"}, {3, "A"}};
    consumer_group g(ordered(), 0);
    g.member_joined(a_);
    for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
        const auto d = g.next(3, at(static_cast<int>(attempt)), reader());
        ASSERT_EQ(seqs(d), seq_list{1});
        g.nak(a_, 1, attempt, 0ms, at(static_cast<int>(attempt)), "boom");
    }
    ASSERT_EQ(g.take_dead_letters().size(), 1u);
    EXPECT_EQ(seqs(g.next(3, at(10), reader())), seq_list{2});
    EXPECT_EQ(g.term(a_, 2, 1), verdict::done);
    EXPECT_EQ(seqs(g.next(3, at(11), reader())), seq_list{3});
    EXPECT_EQ(g.ack(a_, 3, 1), verdict::done);
    EXPECT_EQ(g.position(), 3u);
    EXPECT_EQ(g.keys_held(), 0u);
}

TEST_F(ordered_group_test, members_get_no_more_than_their_room_and_held_back_records_wait_for_it) {
    for (std::uint64_t s = 1; s <= 6; ++s) keys_[s] = s <= 2 ? "A" : "k" + std::to_string(s);
    consumer_group g(ordered(2), 0);
    g.member_joined(a_);
    EXPECT_EQ(seqs(g.next(6, at(0), reader())), (seq_list{1, 3}));   // 2 held back, a is full
    EXPECT_EQ(g.in_flight(a_), 2u);
    g.ack(a_, 1, 1);
    EXPECT_EQ(seqs(g.next(6, at(1), reader())), seq_list{2});   // its key's turn comes first
    EXPECT_TRUE(g.next(6, at(2), reader()).empty());
    g.ack(a_, 2, 1);
    g.ack(a_, 3, 1);
    EXPECT_EQ(seqs(g.next(6, at(3), reader())), (seq_list{4, 5}));
}

TEST_F(ordered_group_test, many_distinct_keys_are_tracked_only_while_unsettled) {
    consumer_group g(ordered(64), 0);
    g.member_joined(a_);
    g.member_joined(b_);
    constexpr std::uint64_t total = 100'000;
    const auto key_of = [](std::uint64_t seq) { return "order-" + std::to_string(seq); };
    std::size_t most_keys = 0;
    for (std::uint64_t handed = 0; handed < total;) {
        const auto d = g.next(total, at(0), key_of);
        ASSERT_FALSE(d.empty());
        most_keys = std::max(most_keys, g.keys_held());
        for (const auto& x : d) g.ack(x.member, x.seq, x.attempt);
        handed += d.size();
    }
    EXPECT_LE(most_keys, 128u);   // what two members of room 64 hold
    EXPECT_EQ(g.keys_held(), 0u);
    EXPECT_EQ(g.held_back(), 0u);
    EXPECT_EQ(g.position(), total);
}

TEST_F(ordered_group_test, records_held_back_are_bounded_and_then_wait_in_the_log) {
    auto c = ordered(4);
    c.max_held_back = 3;
    consumer_group g(c, 0);
    g.member_joined(a_);
    for (std::uint64_t s = 1; s <= 10; ++s) keys_[s] = s <= 5 ? "A" : "B";
    EXPECT_EQ(seqs(g.next(10, at(0), reader())), seq_list{1});   // 2..4 held back, then full
    EXPECT_EQ(g.held_back(), 3u);
    g.ack(a_, 1, 1);
    std::vector<std::uint64_t> order{1};
    for (int round = 1; order.size() < 10 && round < 50; ++round) {
        for (const auto& x : g.next(10, at(round), reader())) {
            order.push_back(x.seq);
            g.ack(x.member, x.seq, x.attempt);
        }
        EXPECT_LE(g.held_back(), 3u);
    }
    std::vector<std::uint64_t> a_order, b_order;
    for (const auto s : order) (keys_[s] == "A" ? a_order : b_order).push_back(s);
    EXPECT_EQ(a_order, (seq_list{1, 2, 3, 4, 5}));
    EXPECT_EQ(b_order, (seq_list{6, 7, 8, 9, 10}));
    EXPECT_EQ(g.position(), 10u);
}

TEST_F(ordered_group_test, records_held_back_and_trimmed_away_free_their_key) {
    keys_ = {{1, "A"}, {2, "A"}, {3, "A"}, {4, "A"}};
    consumer_group g(ordered(), 0);
    g.member_joined(a_);
    g.next(4, at(0), reader());   // 1 out; 2..4 held back
    g.trimmed_before(3);          // 1 and 2 are gone from the log; 1 is held
    EXPECT_TRUE(g.next(4, at(1), reader()).empty());
    EXPECT_EQ(g.ack(a_, 1, 1), verdict::done);
    EXPECT_EQ(seqs(g.next(4, at(2), reader())), seq_list{3});   // 2 skipped
    EXPECT_EQ(g.position(), 2u);
}

}  // namespace
}  // namespace zmesh::detail::streams
