// SPDX-License-Identifier: MPL-2.0
// Durable streams between nodes in one process: stored publishes, consumers that resume,
// work queues, redelivery, dead letters, a publisher restarted on its data directory, a work
// queue ordered by key.
#include "node_fixture.hpp"

#include <zmesh/keys.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

// What a consumer's handler saw, for the test thread: seq -> attempts handed.
class received {
public:
    void add(const stream_message& m) {
        std::lock_guard lock(mutex_);
        attempts_[m.seq()].push_back(m.attempt());
        values_[m.seq()] = m.as<int>();
    }
    std::size_t distinct() const {
        std::lock_guard lock(mutex_);
        return attempts_.size();
    }
    std::map<std::uint64_t, std::vector<std::uint32_t>> attempts() const {
        std::lock_guard lock(mutex_);
        return attempts_;
    }
    int value(std::uint64_t seq) const {
        std::lock_guard lock(mutex_);
        return values_.at(seq);
    }

private:
    mutable std::mutex mutex_;
    std::map<std::uint64_t, std::vector<std::uint32_t>> attempts_;
    std::map<std::uint64_t, int> values_;
};

class streams_fixture : public node_fixture {
protected:
    streams_fixture() { std::filesystem::create_directories(dir_); }
    ~streams_fixture() override {
        for (auto& n : nodes_) n->stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    options publisher_options(const std::string& name, const std::string& sub = "pub") const {
        auto o = make_options(name);
        o.data_dir = (dir_ / sub).string();
        return o;
    }
    // Publishes values [from, to) on "orders.placed", each stored before the next.
    static void publish(node& n, int from, int to) {
        for (int i = from; i < to; ++i) n.publish_stored("orders.placed", i).get();
    }
    static bool joined(const node& n, std::size_t members) { return joined_names(n).size() == members; }

    std::filesystem::path dir_ =
        std::filesystem::temp_directory_path() / ("zmesh-streams-" + unique_mesh());
};

TEST_F(streams_fixture, a_stored_publish_needs_a_data_directory_and_a_stream_that_takes_the_topic) {
    auto& plain = start("plain");
    EXPECT_THROW(plain.publish_stored("orders.placed", 1).get(), stream_error);
    EXPECT_THROW(plain.declare_stream({"orders", "orders."}), stream_error);

    auto& pub = start(publisher_options("pub"));
    pub.declare_stream({"orders", "orders."});
    EXPECT_THROW(pub.publish_stored("invoices.sent", 1).get(), stream_error);
    pub.publish_stored("orders.placed", 1).get();
    const auto streams = pub.streams();
    ASSERT_EQ(streams.size(), 1u);
    EXPECT_EQ(streams[0].config.name, "orders");
    EXPECT_EQ(streams[0].last_seq, 1u);
    EXPECT_EQ(pub.stats().stream_stored, 1u);
    EXPECT_THROW(pub.declare_stream({"", "x."}), std::invalid_argument);
    EXPECT_THROW(pub.consume("orders", std::string(256, 'c'), [](const stream_message&) {}), std::invalid_argument);
}

TEST_F(streams_fixture, a_consumer_gets_every_stored_message_once_and_resumes_after_its_position) {
    auto& pub = start(publisher_options("pub"));
    pub.declare_stream({"orders", "orders."});
    publish(pub, 0, 100);   // before any consumer: replayed from the first

    auto& first = start("consumer-1");
    ASSERT_TRUE(wait_until([&] { return joined(pub, 1); }, 10s));
    received got;
    consume_options from_first;
    from_first.start = stream_start::first;
    first.consume("orders", "billing", [&](const stream_message& m) { got.add(m), m.ack(); }, from_first);
    ASSERT_TRUE(wait_until([&] { return got.distinct() == 100; }, 10s)) << got.distinct();
    publish(pub, 100, 150);   // live, after the replay: no gap, no duplicate at the seam
    ASSERT_TRUE(wait_until([&] { return got.distinct() == 150; }, 10s)) << got.distinct();
    for (const auto& [seq, attempts] : got.attempts()) {
        EXPECT_EQ(attempts, std::vector<std::uint32_t>{1}) << seq;
        EXPECT_EQ(got.value(seq), static_cast<int>(seq) - 1);
    }
    // The acks reach the publisher: the position is kept there.
    first.stop();
    publish(pub, 150, 160);
    auto& second = start("consumer-2");
    received rest;
    second.consume("orders", "billing", [&](const stream_message& m) { rest.add(m), m.ack(); }, from_first);
    ASSERT_TRUE(wait_until([&] { return rest.distinct() == 10; }, 10s)) << rest.distinct();
    EXPECT_EQ(rest.attempts().begin()->first, 151u);
    EXPECT_EQ(second.stats().stream_delivered, 10u);
}

TEST_F(streams_fixture, members_of_one_name_share_the_work_and_each_message_is_acked_once) {
    auto& pub = start(publisher_options("pub"));
    pub.declare_stream({"jobs", "jobs."});
    for (int i = 0; i < 400; ++i) pub.publish_stored("jobs.run", i);
    pub.publish_stored("jobs.run", 400).get();
    auto& a = start("worker-a");
    auto& b = start("worker-b");
    ASSERT_TRUE(wait_until([&] { return joined(pub, 2); }, 10s));
    // Each member holds its first message unsettled until both have one: with one in flight
    // each, the second member's first message cannot go to the first.
    std::mutex held_mutex;
    std::vector<stream_message> held;
    bool both_started = false;
    received got_a, got_b;
    const auto worker = [&](received& got) {
        return [&](const stream_message& m) {
            got.add(m);
            std::lock_guard lock(held_mutex);
            if (both_started)
                m.ack();
            else
                held.push_back(m);
        };
    };
    consume_options o;
    o.start = stream_start::first;
    o.max_in_flight = 1;
    a.consume("jobs", "workers", worker(got_a), o);
    b.consume("jobs", "workers", worker(got_b), o);
    ASSERT_TRUE(wait_until([&] { return got_a.distinct() >= 1 && got_b.distinct() >= 1; }, 10s));
    {
        std::lock_guard lock(held_mutex);
        both_started = true;
        for (const auto& m : held) m.ack();
    }
    ASSERT_TRUE(wait_until([&] { return got_a.distinct() + got_b.distinct() == 401; }, 30s))
        << got_a.distinct() << " + " << got_b.distinct();
    std::set<std::uint64_t> all;
    for (const auto* got : {&got_a, &got_b})
        for (const auto& [seq, attempts] : got->attempts()) {
            EXPECT_TRUE(all.insert(seq).second) << "seq " << seq << " went to both";
            EXPECT_EQ(attempts.size(), 1u);
        }
    EXPECT_EQ(all.size(), 401u);
}

TEST_F(streams_fixture, a_work_queue_ordered_by_key_acks_each_keys_messages_in_the_order_stored) {
    auto& pub = start(publisher_options("pub"));
    pub.declare_stream({"jobs", "jobs."});
    EXPECT_THROW(pub.publish_stored("jobs.run", std::string(256, 'k'), 0), std::invalid_argument);
    constexpr int total = 300, keys = 5;
    for (int i = 1; i < total; ++i) pub.publish_stored("jobs.run", "k" + std::to_string(i % keys), i);
    pub.publish_stored("jobs.run", "k" + std::to_string(total % keys), total).get();
    auto& a = start("worker-a");
    auto& b = start("worker-b");
    ASSERT_TRUE(wait_until([&] { return joined(pub, 2); }, 10s));
    std::mutex mutex;
    std::map<std::string, std::vector<std::uint64_t>> acked;   // key -> seqs, in ack order
    std::set<std::string> active;                               // keys in a handler now
    int overlaps = 0, wrong_keys = 0;
    std::set<int> members_used;
    const auto worker = [&](int member) {
        return [&, member](const stream_message& m) {
            {
                std::lock_guard lock(mutex);
                if (!active.insert(m.key()).second) ++overlaps;   // two of one key at once
                if (m.key() != "k" + std::to_string(m.as<int>() % keys)) ++wrong_keys;
                members_used.insert(member);
            }
            const bool nak = m.as<int>() % 7 == 0 && m.attempt() == 1;
            {
                std::lock_guard lock(mutex);   // out before the settle: the next of its key may come at once
                active.erase(m.key());
                if (!nak) acked[m.key()].push_back(m.seq());
            }
            nak ? m.nak(0ms, "once") : m.ack();
        };
    };
    consume_options o;
    o.start = stream_start::first;
    o.ordered_by_key = true;
    a.consume("jobs", "workers", worker(0), o);
    b.consume("jobs", "workers", worker(1), o);
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& [key, seqs] : acked) n += seqs.size();
        return n == total;
    }, 30s));
    std::lock_guard lock(mutex);
    EXPECT_EQ(overlaps, 0);
    EXPECT_EQ(wrong_keys, 0);
    EXPECT_EQ(members_used.size(), 2u);
    ASSERT_EQ(acked.size(), static_cast<std::size_t>(keys));
    for (const auto& [key, seqs] : acked) {
        EXPECT_EQ(seqs.size(), static_cast<std::size_t>(total / keys)) << key;
        EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end())) << key;
        EXPECT_EQ(std::set<std::uint64_t>(seqs.begin(), seqs.end()).size(), seqs.size()) << key;
    }
}

TEST_F(streams_fixture, a_nak_redelivers_and_a_poison_message_ends_in_the_dead_letters_after_max_deliveries) {
    auto& pub = start(publisher_options("pub"));
    pub.declare_stream({"jobs", "jobs."});
    auto& worker = start("worker");
    ASSERT_TRUE(wait_until([&] { return joined(pub, 1); }, 10s));
    received got;
    consume_options o;
    o.max_deliveries = 3;
    o.start = stream_start::first;
    worker.consume("jobs", "workers", [&](const stream_message& m) {
        got.add(m);
        if (m.as<int>() == 13)
            m.nak(0ms, "thirteen is unlucky");
        else
            m.ack();
    }, o);
    for (int i = 10; i < 16; ++i) pub.publish_stored("jobs.run", i).get();
    ASSERT_TRUE(wait_until([&] {
        for (const auto& s : pub.streams())
            if (s.config.name == "jobs.dlq" && s.messages == 1) return got.distinct() == 6;
        return false;
    }, 10s));
    const auto attempts = got.attempts();
    EXPECT_EQ(attempts.at(4), (std::vector<std::uint32_t>{1, 2, 3}));   // 13 is the fourth
    for (const auto seq : {1u, 2u, 3u, 5u, 6u}) EXPECT_EQ(attempts.at(seq).size(), 1u) << seq;
}

TEST_F(streams_fixture, what_a_stopped_member_held_goes_to_the_other_and_a_late_ack_is_refused) {
    auto& pub = start(publisher_options("pub"));
    pub.declare_stream({"jobs", "jobs."});
    auto& slow = start("slow");
    ASSERT_TRUE(wait_until([&] { return joined(pub, 1); }, 10s));
    std::mutex kept_mutex;
    std::vector<stream_message> kept;   // never settled while the node runs
    consume_options o;
    o.start = stream_start::first;
    slow.consume("jobs", "workers", [&](const stream_message& m) {
        std::lock_guard lock(kept_mutex);
        kept.push_back(m);
    }, o);
    for (int i = 0; i < 5; ++i) pub.publish_stored("jobs.run", i).get();
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(kept_mutex);
        return kept.size() == 5;
    }, 10s));

    auto& other = start("other");
    received got;
    other.consume("jobs", "workers", [&](const stream_message& m) { got.add(m), m.ack(); }, o);
    slow.stop();   // its link drops: its five go to `other` at once, as second attempts
    ASSERT_TRUE(wait_until([&] { return got.distinct() == 5; }, 10s)) << got.distinct();
    for (const auto& [seq, attempts] : got.attempts()) EXPECT_EQ(attempts, std::vector<std::uint32_t>{2}) << seq;
    // A message kept past its node's run settles nothing.
    std::lock_guard lock(kept_mutex);
    kept.front().ack();
}

TEST_F(streams_fixture, a_publisher_restarted_on_its_data_directory_is_the_same_publisher) {
    node_id first_id;
    received got;
    auto& consumer = start("consumer");
    {
        node pub(publisher_options("pub"));
        first_id = pub.id();
        pub.start();
        pub.declare_stream({"orders", "orders."});
        publish(pub, 0, 20);
        ASSERT_TRUE(wait_until([&] { return joined(consumer, 1); }, 10s));
        consume_options o;
        o.start = stream_start::first;
        consumer.consume("orders", "billing", [&](const stream_message& m) { got.add(m), m.ack(); }, o);
        ASSERT_TRUE(wait_until([&] { return got.distinct() == 20; }, 10s));
        // Two nodes on one directory would share one log: refused.
        EXPECT_THROW(node(publisher_options("twin")).start(), std::runtime_error);
    }
    node again(publisher_options("pub"));
    EXPECT_EQ(again.id(), first_id);
    again.start();
    ASSERT_EQ(again.streams().size(), 1u);
    EXPECT_EQ(again.streams()[0].last_seq, 20u);
    publish(again, 20, 30);
    ASSERT_TRUE(wait_until([&] { return got.distinct() == 30; }, 15s)) << got.distinct();
    for (const auto& [seq, attempts] : got.attempts()) EXPECT_EQ(attempts.size(), 1u) << seq;
    again.stop();
}

}  // namespace
}  // namespace zmesh::test

namespace zmesh::test {
namespace {

TEST_F(streams_fixture, a_stream_handler_that_throws_on_the_reactor_is_counted_and_logged_and_the_node_goes_on) {
    auto& pub = start(publisher_options("pub"));
    pub.declare_stream({"orders", "orders."});
    publish(pub, 0, 3);
    log_capture captured;
    auto& consumer = start(logged_options("consumer", captured));
    ASSERT_TRUE(consumer.wait_for_peers(1, 10s));
    received got;
    consume_options from_first;
    from_first.start = stream_start::first;
    consumer.consume("orders", "billing", [&](const stream_message& m) {
        got.add(m);
        m.ack();
        if (m.seq() == 1) throw std::runtime_error("stream handler bug");
    }, from_first, run_on::reactor);
    ASSERT_TRUE(wait_until([&] { return got.distinct() == 3; }, 10s)) << got.distinct();
    EXPECT_EQ(consumer.stats().handler_errors, 1u);
    EXPECT_EQ(captured.find(log_level::warn, "a stream handler threw: stream handler bug").size(), 1u);
    EXPECT_TRUE(consumer.running());
}

TEST_F(streams_fixture, a_secured_publisher_keeps_its_id_in_its_data_directory_while_its_key_is_the_same) {
    const auto alpha = generate_keypair(), beta = generate_keypair();
    const auto secured = [&](const keypair& k) {
        auto o = publisher_options("pub");
        o.secret_key = k.secret_key;
        o.allowed_keys = {alpha.public_key, beta.public_key};
        o.mesh_secret = "secret shared by every member";
        return o;
    };
    const auto first = node(secured(alpha)).id();
    EXPECT_EQ(node(secured(alpha)).id(), first) << "a restart is the same publisher";
    // Another key on the directory: an id of its own key (the kept one would not hold it).
    const auto other = node(secured(beta)).id();
    EXPECT_NE(other, first);
    EXPECT_EQ(node(secured(beta)).id(), other);
    // Two directories with one key: two members, as replicas of one key must be.
    auto elsewhere = secured(alpha);
    elsewhere.data_dir = (dir_ / "replica").string();
    const auto replica = node(elsewhere).id();
    EXPECT_NE(replica, first);
    EXPECT_EQ(replica.hex().substr(0, 16), first.hex().substr(0, 16)) << "the key's part";
}

}  // namespace
}  // namespace zmesh::test
