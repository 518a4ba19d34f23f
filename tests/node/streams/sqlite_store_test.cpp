// SPDX-License-Identifier: MPL-2.0
// The durable log on SQLite: sequences that survive restarts and trimming, batches visible
// only once committed, retention by count, bytes and age, positions and node values kept,
// and nothing committed lost when the process is killed -9 right after.
#include "node/streams/log_store.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

namespace zmesh::detail::streams {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

class sqlite_store_test : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("zmesh-store-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "log.db").string();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::unique_ptr<log_store> open(durability mode = durability::os) { return open_sqlite_store(path_, mode); }
    static void append_n(log_store& s, const std::string& stream, int n, std::uint64_t time_us = 1) {
        for (int i = 0; i < n; ++i) {
            std::string payload = "m";
            payload += std::to_string(i);
            s.append(stream, time_us, "", bytes(payload));
        }
    }

    std::filesystem::path dir_;
    std::string path_;
};

TEST_F(sqlite_store_test, records_get_sequences_from_one_and_read_back_in_order) {
    auto s = open();
    s->declare({"orders", "orders.", {}});
    EXPECT_EQ(s->append("orders", 10, "k1", bytes("a")), 1u);
    EXPECT_EQ(s->append("orders", 11, "", bytes("b")), 2u);
    EXPECT_EQ(s->commit(), 2u);
    const auto r = s->read("orders", 1, 10, 1 << 20);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].seq, 1u);
    EXPECT_EQ(r[0].time_us, 10u);
    EXPECT_EQ(r[0].key, "k1");
    EXPECT_EQ(text(r[0].payload), "a");
    EXPECT_EQ(text(r[1].payload), "b");
    const auto st = s->state("orders");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->first_seq, 1u);
    EXPECT_EQ(st->last_seq, 2u);
    EXPECT_EQ(st->messages, 2u);
    EXPECT_EQ(st->bytes, 4u);   // "k1" + "a" + "b"
}

TEST_F(sqlite_store_test, a_batch_is_invisible_until_committed_and_gone_if_never_committed) {
    {
        auto s = open();
        s->declare({"orders", "orders.", {}});
        append_n(*s, "orders", 3);
        EXPECT_TRUE(s->pending());
        EXPECT_TRUE(s->read("orders", 1, 10, 1 << 20).empty());
        EXPECT_EQ(s->state("orders")->messages, 0u);
    }   // closed without commit
    auto s = open();
    EXPECT_EQ(s->state("orders")->last_seq, 0u);
    EXPECT_EQ(s->append("orders", 1, "", bytes("x")), 1u);   // the sequences were never promised
}

TEST_F(sqlite_store_test, sequences_continue_after_a_restart) {
    {
        auto s = open();
        s->declare({"orders", "orders.", {}});
        append_n(*s, "orders", 5);
        s->commit();
    }
    auto s = open();
    const auto st = s->state("orders");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->last_seq, 5u);
    EXPECT_EQ(st->messages, 5u);
    EXPECT_EQ(s->append("orders", 1, "", bytes("next")), 6u);
}

TEST_F(sqlite_store_test, sequences_never_go_back_even_when_everything_was_trimmed) {
    {
        auto s = open();
        s->declare({"orders", "orders.", {.max_messages = 1}});
        append_n(*s, "orders", 3);
        s->commit();
        EXPECT_EQ(s->trim("orders", 0), 2u);
        s->declare({"orders", "orders.", {.max_age = std::chrono::milliseconds(1)}});
        EXPECT_EQ(s->trim("orders", 1'000'000), 1u);
        EXPECT_EQ(s->state("orders")->messages, 0u);
        EXPECT_EQ(s->state("orders")->first_seq, 0u);
    }
    auto s = open();
    EXPECT_EQ(s->append("orders", 1, "", bytes("x")), 4u);
}

TEST_F(sqlite_store_test, retention_by_count_keeps_the_newest) {
    auto s = open();
    s->declare({"orders", "orders.", {.max_messages = 3}});
    append_n(*s, "orders", 10);
    s->commit();
    EXPECT_EQ(s->trim("orders", 0), 7u);
    const auto st = s->state("orders");
    EXPECT_EQ(st->first_seq, 8u);
    EXPECT_EQ(st->messages, 3u);
    const auto r = s->read("orders", 1, 100, 1 << 20);   // from a trimmed sequence: the first kept
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].seq, 8u);
}

TEST_F(sqlite_store_test, retention_by_bytes_drops_the_oldest_until_under) {
    auto s = open();
    s->declare({"logs", "logs.", {.max_bytes = 25}});
    for (int i = 0; i < 5; ++i) s->append("logs", 1, "", bytes(std::string(10, 'a' + i)));
    s->commit();
    EXPECT_EQ(s->trim("logs", 0), 3u);
    EXPECT_EQ(s->state("logs")->bytes, 20u);
    EXPECT_EQ(s->state("logs")->first_seq, 4u);
}

TEST_F(sqlite_store_test, retention_by_age_drops_what_is_older) {
    auto s = open();
    s->declare({"ticks", "ticks.", {.max_age = std::chrono::milliseconds(10)}});
    for (std::uint64_t t : {1'000u, 2'000u, 55'000u, 60'000u}) s->append("ticks", t, "", bytes("x"));
    s->commit();
    EXPECT_EQ(s->trim("ticks", 61'000), 2u);   // older than 51 ms
    EXPECT_EQ(s->state("ticks")->first_seq, 3u);
}

TEST_F(sqlite_store_test, reads_stop_at_max_and_max_bytes_but_return_at_least_one) {
    auto s = open();
    s->declare({"big", "big.", {}});
    for (int i = 0; i < 4; ++i) s->append("big", 1, "", bytes(std::string(100, 'x')));
    s->commit();
    EXPECT_EQ(s->read("big", 1, 2, 1 << 20).size(), 2u);
    EXPECT_EQ(s->read("big", 1, 10, 250).size(), 2u);
    EXPECT_EQ(s->read("big", 1, 10, 10).size(), 1u);   // one over the budget still comes
    EXPECT_TRUE(s->read("big", 5, 10, 1 << 20).empty());
    EXPECT_TRUE(s->read("nothing", 1, 10, 1 << 20).empty());
}

TEST_F(sqlite_store_test, streams_are_apart_and_removing_one_takes_its_records_and_positions) {
    auto s = open();
    s->declare({"a", "a.", {}});
    s->declare({"b", "b.", {}});
    append_n(*s, "a", 2);
    append_n(*s, "b", 3);
    s->commit();
    s->set_position("a", "worker", 2);
    EXPECT_EQ(s->state("a")->last_seq, 2u);
    EXPECT_EQ(s->state("b")->last_seq, 3u);
    EXPECT_TRUE(s->remove("a"));
    EXPECT_FALSE(s->remove("a"));
    EXPECT_FALSE(s->state("a"));
    EXPECT_EQ(s->all().size(), 1u);
    s->declare({"a", "a.", {}});   // a new stream of that name starts afresh
    EXPECT_EQ(s->append("a", 1, "", bytes("x")), 1u);
    EXPECT_FALSE(s->position("a", "worker"));
}

TEST_F(sqlite_store_test, appending_to_an_undeclared_stream_is_refused) {
    auto s = open();
    EXPECT_THROW(s->append("ghost", 1, "", bytes("x")), std::invalid_argument);
    EXPECT_THROW(s->declare({"", "x", {}}), std::invalid_argument);
    EXPECT_THROW(s->declare({std::string(256, 'n'), "x", {}}), std::invalid_argument);
}

TEST_F(sqlite_store_test, positions_and_node_values_survive_a_restart) {
    {
        auto s = open(durability::fsync);
        s->declare({"orders", "orders.", {}});
        s->set_position("orders", "billing", 41);
        s->set_position("orders", "billing", 42);
        s->set_value("node_id", bytes("0123456789abcdef"));
    }
    auto s = open();
    EXPECT_EQ(s->position("orders", "billing"), 42u);
    EXPECT_FALSE(s->position("orders", "shipping"));
    ASSERT_TRUE(s->value("node_id"));
    EXPECT_EQ(text(*s->value("node_id")), "0123456789abcdef");
    EXPECT_FALSE(s->value("other"));
}

TEST_F(sqlite_store_test, erasing_a_record_takes_it_from_counts_and_reads_and_survives_a_restart) {
    {
        auto s = open();
        s->declare({"orders.dlq", std::string(1, '\0'), {}});
        append_n(*s, "orders.dlq", 4);   // payloads m0..m3, 2 bytes each
        s->commit();
        EXPECT_TRUE(s->erase("orders.dlq", 2));
        EXPECT_FALSE(s->erase("orders.dlq", 2));    // gone already
        EXPECT_FALSE(s->erase("orders.dlq", 99));   // never was
        EXPECT_FALSE(s->erase("nothing", 1));
        auto st = s->state("orders.dlq");
        EXPECT_EQ(st->messages, 3u);
        EXPECT_EQ(st->bytes, 6u);
        EXPECT_EQ(st->first_seq, 1u);
        const auto r = s->read("orders.dlq", 1, 10, 1 << 20);
        ASSERT_EQ(r.size(), 3u);
        EXPECT_EQ(r[1].seq, 3u);
    }
    auto s = open();
    const auto st = s->state("orders.dlq");
    EXPECT_EQ(st->messages, 3u);
    EXPECT_EQ(st->first_seq, 1u);
    EXPECT_EQ(st->last_seq, 4u);
}

TEST_F(sqlite_store_test, erasing_the_first_or_last_record_moves_first_seq_but_never_last_seq) {
    {
        auto s = open();
        s->declare({"q", "q.", {}});
        append_n(*s, "q", 3);
        s->commit();
        EXPECT_TRUE(s->erase("q", 1));
        EXPECT_EQ(s->state("q")->first_seq, 2u);
        EXPECT_TRUE(s->erase("q", 3));
        EXPECT_EQ(s->state("q")->last_seq, 3u);
        EXPECT_TRUE(s->erase("q", 2));
        EXPECT_EQ(s->state("q")->first_seq, 0u);
        EXPECT_EQ(s->state("q")->messages, 0u);
        EXPECT_EQ(s->state("q")->bytes, 0u);
    }
    auto s = open();   // the row keeps the last sequence: the next record is 4
    EXPECT_EQ(s->state("q")->last_seq, 3u);
    EXPECT_EQ(s->append("q", 1, "", bytes("x")), 4u);
}

TEST_F(sqlite_store_test, erase_commits_the_open_batch_first) {
    auto s = open();
    s->declare({"q", "q.", {}});
    append_n(*s, "q", 2);
    s->commit();
    s->append("q", 1, "", bytes("late"));
    EXPECT_TRUE(s->erase("q", 1));
    EXPECT_FALSE(s->pending());
    EXPECT_EQ(s->state("q")->messages, 2u);
    EXPECT_EQ(s->state("q")->last_seq, 3u);
}

TEST_F(sqlite_store_test, positions_lists_a_streams_consumers_by_name) {
    auto s = open();
    s->declare({"a", "a.", {}});
    s->declare({"b", "b.", {}});
    s->set_position("a", "zeta", 3);
    s->set_position("a", "alpha", 7);
    s->set_position("b", "other", 1);
    s->commit();
    const auto p = s->positions("a");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0], std::make_pair(std::string("alpha"), std::uint64_t{7}));
    EXPECT_EQ(p[1], std::make_pair(std::string("zeta"), std::uint64_t{3}));
    EXPECT_TRUE(s->positions("none").empty());
}

TEST_F(sqlite_store_test, an_unopenable_path_is_a_store_error) {
    EXPECT_THROW(open_sqlite_store((dir_ / "no" / "such" / "dir" / "log.db").string(), durability::os), store_error);
}

// A child commits batches and reports each commit on a pipe, then is killed -9 midway
// through its next batch: every record it reported committed is there, nothing else.
TEST_F(sqlite_store_test, what_was_committed_survives_kill_9_of_the_process) {
    int reports[2];
    ASSERT_EQ(::pipe(reports), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(reports[0]);
        auto s = open_sqlite_store(path_, durability::os);
        s->declare({"orders", "orders.", {}});
        for (std::uint64_t batch = 0;; ++batch) {
            const std::string payload(64, 'p');
            for (int i = 0; i < 100; ++i) s->append("orders", batch, "", bytes(payload));
            s->commit();
            const auto last = s->state("orders")->last_seq;
            if (::write(reports[1], &last, sizeof last) != sizeof last) ::_exit(1);
        }
    }
    ::close(reports[1]);
    std::uint64_t committed = 0, last = 0;
    while (committed < 2000 && ::read(reports[0], &last, sizeof last) == sizeof last) committed = last;
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    // Reports may still wait in the pipe: the last one is the most the child promised.
    while (::read(reports[0], &last, sizeof last) == sizeof last) committed = last;
    ::close(reports[0]);
    ASSERT_GE(committed, 2000u);

    auto s = open();
    const auto st = s->state("orders");
    ASSERT_TRUE(st);
    EXPECT_GE(st->last_seq, committed);
    EXPECT_EQ(st->last_seq % 100, 0u);   // whole batches only
    EXPECT_EQ(st->messages, st->last_seq);
    const auto r = s->read("orders", committed - 99, 100, 1 << 20);
    ASSERT_EQ(r.size(), 100u);
    EXPECT_EQ(r.back().seq, committed);
}

}  // namespace
}  // namespace zmesh::detail::streams
