// SPDX-License-Identifier: MPL-2.0
// A node as the broker of its own messages, over a real SQLite log and without sockets:
// group commits and stored notices, consumers that resume after a restart, work queues,
// redelivery when a member leaves, attempt-fenced acks, dead letters, start positions,
// retention, per-key order read from the log.
#include "node/streams/stream_publisher.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>

namespace zmesh::detail::streams {
namespace {

using namespace std::chrono_literals;
using clock = stream_publisher::clock;

class recording_sink : public stream_sink {
public:
    std::vector<std::pair<member_id, delivery_message>> delivered;
    std::vector<std::pair<member_id, consume_answer>> answers;
    std::map<std::uint64_t, bool> tickets;
    void deliver(const member_id& to, const delivery_message& d) override { delivered.emplace_back(to, d); }
    void answer(const member_id& to, const consume_answer& a) override { answers.emplace_back(to, a); }
    void stored(std::uint64_t ticket, bool ok) override { tickets[ticket] = ok; }
    std::vector<delivery_message> take(const member_id& m) {
        std::vector<delivery_message> out;
        std::erase_if(delivered, [&](const auto& d) {
            if (d.first != m) return false;
            out.push_back(d.second);
            return true;
        });
        return out;
    }
};

class stream_publisher_test : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("zmesh-streams-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        open();
        pub_->declare({"orders", "orders.", {}});
    }
    void TearDown() override {
        pub_.reset();
        std::filesystem::remove_all(dir_);
    }
    void open() {
        pub_.reset();
        pub_ = std::make_unique<stream_publisher>(open_sqlite_store((dir_ / "log.db").string(), durability::os), sink_,
                                                  publisher_config{.commit_every = 100, .commit_within = 2ms});
    }
    clock::time_point at(int ms) const { return t0_ + std::chrono::milliseconds(ms); }
    // Publishes `n` orders at `ms` and lets their commit fall due.
    void publish(int n, int ms, std::uint64_t first_ticket = 1) {
        for (int i = 0; i < n; ++i) {
            const std::string body = "order-" + std::to_string(first_ticket + static_cast<std::uint64_t>(i));
            pub_->append("orders.created", "", std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()),
                         1'000'000, first_ticket + static_cast<std::uint64_t>(i), at(ms));
        }
        pub_->on_timers(at(ms + 3), 1'000'000);
    }
    consume_request request(std::string consumer, start_at start = start_at::first, std::uint64_t value = 0) {
        consume_request r{"orders", std::move(consumer), start, value, {}};
        r.config.ack_wait = 100ms;
        r.config.max_deliveries = 3;
        r.config.max_in_flight = 50;
        return r;
    }
    void ack(const member_id& m, const delivery_message& d, int ms) {
        pub_->on_settle(m, {d.stream, d.consumer, d.rec.seq, d.attempt, settle::ack, 0ms, ""}, at(ms));
    }

    std::filesystem::path dir_;
    recording_sink sink_;
    std::unique_ptr<stream_publisher> pub_;
    clock::time_point t0_ = clock::now();
    member_id a_ = member_id::random(), b_ = member_id::random();
};

TEST_F(stream_publisher_test, appends_are_stored_in_group_commits_and_each_publish_hears_it) {
    const std::string body = "x";
    const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(body.data()), 1);
    EXPECT_EQ(pub_->append("orders.created", "", bytes, 1, 7, at(0)), 1u);
    EXPECT_EQ(pub_->append("billing.due", "", bytes, 1, 8, at(0)), 0u);   // no stream takes it
    EXPECT_TRUE(sink_.tickets.empty());
    pub_->on_timers(at(1), 1);
    EXPECT_TRUE(sink_.tickets.empty());   // within commit_within
    EXPECT_LE(pub_->next_deadline(), at(2));
    pub_->on_timers(at(2), 1);
    ASSERT_EQ(sink_.tickets.size(), 1u);
    EXPECT_TRUE(sink_.tickets.at(7));
    EXPECT_EQ(pub_->streams().front().last_seq, 1u);
}

TEST_F(stream_publisher_test, a_full_batch_commits_at_once) {
    publish(150, 0);   // 100 at once, 50 when due
    EXPECT_EQ(sink_.tickets.size(), 150u);
    EXPECT_EQ(pub_->streams().front().messages, 150u);
}

TEST_F(stream_publisher_test, a_consumer_gets_stored_records_and_resumes_after_a_restart) {
    publish(5, 0);
    pub_->on_consume(a_, request("billing"), at(10));
    ASSERT_EQ(sink_.answers.size(), 1u);
    EXPECT_EQ(sink_.answers[0].second.status, consume_status::ok);
    auto got = sink_.take(a_);
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[0].rec.seq, 1u);
    EXPECT_EQ(std::string(got[0].rec.payload.begin(), got[0].rec.payload.end()), "order-1");
    for (int i = 0; i < 3; ++i) ack(a_, got[static_cast<std::size_t>(i)], 11);
    pub_->on_timers(at(20), 1'000'000);   // the position is stored

    open();   // the publisher restarts
    pub_->on_consume(a_, request("billing", start_at::new_records), at(30));   // start is ignored: it resumes
    EXPECT_EQ(sink_.answers.back().second.position, 3u);
    got = sink_.take(a_);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].rec.seq, 4u);
}

TEST_F(stream_publisher_test, consumer_names_from_the_network_are_bounded) {
    pub_.reset();
    pub_ = std::make_unique<stream_publisher>(open_sqlite_store((dir_ / "log.db").string(), durability::os), sink_,
                                              publisher_config{.max_groups = 3});
    for (int i = 0; i < 5; ++i) pub_->on_consume(a_, request("name-" + std::to_string(i)), at(0));
    ASSERT_EQ(sink_.answers.size(), 5u);
    for (std::size_t i = 0; i < 5; ++i)
        EXPECT_EQ(sink_.answers[i].second.status, i < 3 ? consume_status::ok : consume_status::too_many) << i;
    EXPECT_EQ(pub_->refused_consumes(), 2u);
    pub_->on_consume(b_, request("name-1"), at(1));   // a name it serves takes more members
    EXPECT_EQ(sink_.answers.back().second.status, consume_status::ok);
}

TEST_F(stream_publisher_test, what_was_handed_out_before_a_restart_comes_back_as_a_redelivery) {
    publish(5, 0);
    pub_->on_consume(a_, request("billing"), at(10));
    auto got = sink_.take(a_);
    ASSERT_EQ(got.size(), 5u);
    // 2..5 acked, 1 still held: the position stays at 0, and the log keeps only that.
    for (std::size_t i = 1; i < 5; ++i) ack(a_, got[i], 11);
    pub_->on_timers(at(20), 1'000'000);

    open();   // the publisher restarts (killed: what it knew past the position is gone)
    publish(2, 30, 6);
    pub_->on_consume(b_, request("billing"), at(40));
    got = sink_.take(b_);
    ASSERT_EQ(got.size(), 7u);
    for (const auto& d : got) EXPECT_EQ(d.attempt, d.rec.seq <= 5 ? 2u : 1u) << d.rec.seq;
}

TEST_F(stream_publisher_test, a_work_queue_hands_each_record_to_one_member_and_a_leavers_to_the_other) {
    pub_->on_consume(a_, request("workers"), at(0));
    pub_->on_consume(b_, request("workers"), at(0));
    publish(10, 1);
    auto to_a = sink_.take(a_), to_b = sink_.take(b_);
    EXPECT_EQ(to_a.size() + to_b.size(), 10u);
    EXPECT_FALSE(to_a.empty());
    EXPECT_FALSE(to_b.empty());
    for (const auto& d : to_b) ack(b_, d, 5);
    pub_->member_left(a_, at(6));   // a's link dropped
    const auto again = sink_.take(b_);
    ASSERT_EQ(again.size(), to_a.size());
    for (const auto& d : again) EXPECT_EQ(d.attempt, 2u);
    for (const auto& d : again) ack(b_, d, 7);
    EXPECT_EQ(pub_->group("orders", "workers")->position(), 10u);
}

TEST_F(stream_publisher_test, a_late_ack_after_a_redelivery_is_refused_and_counted) {
    pub_->on_consume(a_, request("w"), at(0));
    publish(1, 1);
    const auto first = sink_.take(a_);
    ASSERT_EQ(first.size(), 1u);
    pub_->on_timers(at(200), 1'000'000);   // ack wait passed: attempt 2
    const auto second = sink_.take(a_);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].attempt, 2u);
    ack(a_, first[0], 201);
    EXPECT_EQ(pub_->stale_settles(), 1u);
    EXPECT_EQ(pub_->group("orders", "w")->position(), 0u);
    ack(a_, second[0], 202);
    EXPECT_EQ(pub_->group("orders", "w")->position(), 1u);
}

TEST_F(stream_publisher_test, a_poison_record_ends_in_the_dead_letters_with_its_attempts_and_error) {
    pub_->on_consume(a_, request("w"), at(0));
    publish(2, 1);
    for (int round = 0; round < 3; ++round)
        for (const auto& d : sink_.take(a_)) {
            if (d.rec.seq == 1)
                pub_->on_settle(a_, {"orders", "w", 1, d.attempt, settle::nak, 0ms, "cannot parse"}, at(10 + round));
            else
                ack(a_, d, 10 + round);
        }
    pub_->on_timers(at(50), 1'000'000);
    EXPECT_EQ(pub_->group("orders", "w")->position(), 2u);
    std::optional<stream_state> dlq;
    for (const auto& s : pub_->streams())
        if (s.config.name == "orders.dlq") dlq = s;
    ASSERT_TRUE(dlq);
    EXPECT_EQ(dlq->messages, 1u);
    // The dead-letter stream takes no topic of its own: this one goes to "orders" only.
    const std::string body = "x";
    EXPECT_EQ(pub_->append("orders.dlq", "", std::span(reinterpret_cast<const std::uint8_t*>(body.data()), 1), 1, 99, at(60)), 1u);
    pub_->on_timers(at(65), 1'000'000);
    for (const auto& s : pub_->streams())
        if (s.config.name == "orders.dlq") {
            EXPECT_EQ(s.messages, 1u);
        }
    sink_.take(a_);

    pub_->on_consume(b_, {"orders.dlq", "inspect", start_at::first, 0, {}}, at(70));
    const auto letters = sink_.take(b_);
    ASSERT_EQ(letters.size(), 1u);
    const auto h = msgpack::unpack(reinterpret_cast<const char*>(letters[0].rec.payload.data()), letters[0].rec.payload.size());
    const auto m = h.get().as<std::map<std::string, msgpack::object>>();
    EXPECT_EQ(m.at("seq").as<std::uint64_t>(), 1u);
    EXPECT_EQ(m.at("attempts").as<std::uint32_t>(), 3u);
    EXPECT_EQ(m.at("error").as<std::string>(), "cannot parse");
    const auto payload = m.at("payload").as<std::vector<char>>();
    EXPECT_EQ(std::string(payload.begin(), payload.end()), "order-1");
}

TEST_F(stream_publisher_test, start_positions_new_first_sequence_and_time) {
    publish(4, 0);
    pub_->on_consume(a_, request("new", start_at::new_records), at(10));
    EXPECT_TRUE(sink_.take(a_).empty());
    pub_->on_consume(a_, request("from3", start_at::sequence, 3), at(10));
    auto got = sink_.take(a_);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].rec.seq, 3u);
    pub_->on_consume(a_, request("late", start_at::time, 2'000'000), at(10));
    EXPECT_TRUE(sink_.take(a_).empty());   // every record was stored at 1 s
    publish(1, 20, 100);
    got = sink_.take(a_);
    EXPECT_EQ(got.size(), 3u);   // "new", "from3" and "late" each get record 5
}

TEST_F(stream_publisher_test, a_stream_that_does_not_exist_is_answered_as_such) {
    pub_->on_consume(a_, {"nothing", "c", start_at::first, 0, {}}, at(0));
    ASSERT_EQ(sink_.answers.size(), 1u);
    EXPECT_EQ(sink_.answers[0].second.status, consume_status::no_stream);
}

TEST_F(stream_publisher_test, retention_trims_and_consumers_skip_what_went) {
    pub_->declare({"orders", "orders.", {.max_messages = 3}});
    publish(10, 0);
    pub_->on_timers(at(2000), 1'000'000);   // the trim falls due
    EXPECT_EQ(pub_->streams().front().first_seq, 8u);
    pub_->on_consume(a_, request("late", start_at::first), at(2001));
    const auto got = sink_.take(a_);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].rec.seq, 8u);
}

TEST_F(stream_publisher_test, records_far_apart_are_handed_out_together) {
    publish(199, 0);
    auto r = request("billing");
    r.config.max_in_flight = 100;
    pub_->on_consume(a_, r, at(4));
    const auto first = sink_.take(a_);
    ASSERT_EQ(first.size(), 100u);
    for (std::size_t i = 1; i < first.size(); ++i) ack(a_, first[i], 5);   // a holds 1, 101..199
    ASSERT_EQ(sink_.take(a_).size(), 99u);
    pub_->on_consume(b_, r, at(6));
    EXPECT_TRUE(sink_.take(b_).empty());   // nothing left for it
    pub_->member_left(a_, at(7));   // all 100 go to b in one round, read in two runs
    const auto moved = sink_.take(b_);
    ASSERT_EQ(moved.size(), 100u);
    EXPECT_EQ(moved.front().rec.seq, 1u);
    EXPECT_EQ(moved.front().rec.payload, first.front().rec.payload);
    EXPECT_EQ(moved[1].rec.seq, 101u);
    EXPECT_EQ(moved.back().rec.seq, 199u);
    for (const auto& d : moved) EXPECT_EQ(d.attempt, 2u);
}

TEST_F(stream_publisher_test, an_ordered_consumer_hands_a_keys_records_in_order_with_keys_from_the_log) {
    // Keys k0, k1, k2 in turn; the group learns them from the log, not from the appends.
    for (std::uint64_t i = 1; i <= 30; ++i) {
        const std::string body = "order-" + std::to_string(i), key = "k" + std::to_string(i % 3);
        pub_->append("orders.created", key, std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()),
                     1'000'000, i, at(0));
    }
    pub_->on_timers(at(3), 1'000'000);
    auto r = request("billing");
    r.config.ordered_by_key = true;
    pub_->on_consume(a_, r, at(4));
    ASSERT_EQ(sink_.answers.size(), 1u);
    EXPECT_TRUE(sink_.answers[0].second.ordered_by_key);
    r.config.ordered_by_key = false;   // a later member cannot change it
    pub_->on_consume(b_, r, at(4));
    EXPECT_TRUE(sink_.answers[1].second.ordered_by_key);
    std::map<std::string, std::vector<std::uint64_t>> acked;
    for (int round = 0; round < 100 && pub_->group("orders", "billing")->position() < 30; ++round) {
        for (const auto& m : {a_, b_})
            for (const auto& d : sink_.take(m)) {
                // Each key's first record is naked once: its others must wait for it.
                if (d.rec.seq <= 3 && d.attempt == 1) {
                    pub_->on_settle(m, {d.stream, d.consumer, d.rec.seq, 1, settle::nak, 0ms, ""}, at(5 + round));
                    continue;
                }
                acked[d.rec.key].push_back(d.rec.seq);
                ack(m, d, 5 + round);
            }
        pub_->on_timers(at(5 + round), 1'000'000);
    }
    EXPECT_EQ(pub_->group("orders", "billing")->position(), 30u);
    ASSERT_EQ(acked.size(), 3u);
    for (const auto& [key, seqs] : acked) {
        EXPECT_EQ(seqs.size(), 10u) << key;
        EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end())) << key;
    }
}

}  // namespace
}  // namespace zmesh::detail::streams
