// SPDX-License-Identifier: MPL-2.0
// Events between nodes in one process: prefix routing, local delivery, argument checks.
#include "node_fixture.hpp"
#include "protocol/limits.hpp"

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include <zmq.h>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

// What one node's handler saw: (publisher, topic, n) -> times received.
class inbox {
public:
    void add(const event& e) {
        std::lock_guard lock(mutex_);
        ++seen_[{e.sender_name(), e.topic(), e.as<int>()}];
    }
    std::map<std::tuple<std::string, std::string, int>, int> seen() const {
        std::lock_guard lock(mutex_);
        return seen_;
    }
    std::size_t total() const {
        std::size_t n = 0;
        for (const auto& [key, count] : seen()) n += static_cast<std::size_t>(count);
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, int>, int> seen_;
};

// True when `n` sees every name joined and knows their subscriptions.
bool ready(const node& n, std::size_t members) {
    std::size_t count = 0;
    for (const auto& p : n.peers())
        if (!p.observer && p.state == peer_state::joined && p.subscriptions_known) ++count;
    return count == members;
}

TEST_F(node_fixture, each_event_reaches_exactly_the_matching_subscribers_once) {
    const std::vector<std::string> names = {"alpha", "beta", "gamma"};
    std::map<std::string, inbox> inboxes;
    std::vector<node*> nodes;
    for (const auto& name : names) {
        auto o = make_options(name);
        auto n = std::make_unique<node>(o);
        auto& box = inboxes[name];
        n->subscribe(name + ".", [&box](const event& e) { box.add(e); });   // before start
        n->start();
        nodes.push_back(n.get());
        nodes_.push_back(std::move(n));
    }
    for (auto* n : nodes) ASSERT_TRUE(wait_until([&] { return ready(*n, 2); }, 10s)) << n->name();

    constexpr int per_topic = 50;
    for (auto* n : nodes)
        for (const auto& topic : names)
            for (int i = 0; i < per_topic; ++i) ASSERT_TRUE(n->publish(topic + ".x", i));

    // Each node gets its own prefix's events from all three publishers, itself included.
    for (const auto& name : names)
        ASSERT_TRUE(wait_until([&] { return inboxes[name].total() >= 3 * per_topic; }, 10s))
            << name << " got " << inboxes[name].total();
    // Nothing more arrives late.
    EXPECT_FALSE(wait_until([&] {
        std::size_t n = 0;
        for (auto& [name, box] : inboxes) n += box.total();
        return n > 9 * per_topic;
    }, 300ms));
    for (const auto& name : names) {
        const auto seen = inboxes[name].seen();
        EXPECT_EQ(seen.size(), static_cast<std::size_t>(3 * per_topic)) << name;
        for (const auto& [key, count] : seen) {
            EXPECT_EQ(std::get<1>(key), name + ".x") << name << " got a foreign topic";
            EXPECT_EQ(count, 1) << name << " got an event twice";
        }
    }
    for (auto* n : nodes) {
        EXPECT_EQ(n->stats().events_gaps, 0u);
        EXPECT_EQ(n->stats().events_local, static_cast<std::uint64_t>(per_topic));
    }
    for (auto* n : nodes) n->stop();   // before the inboxes their handlers write go away
}

// A node subscribed to nothing opens no event connection (two of the four between each pair
// of nodes), and its peers know that it wants nothing. Its first subscription connects it to
// every publisher; once they know the prefix, what they publish on it arrives.
TEST_F(node_fixture, a_first_subscription_after_joining_connects_to_every_publisher) {
    auto& a = start("a");
    auto& b = start("b");
    auto& c = start("c");
    const auto knows = [](const node& n, const std::string& name, const std::vector<std::string>& subs) {
        for (const auto& p : n.peers())
            if (p.name == name)
                return p.state == peer_state::joined && p.subscriptions_known && p.subscriptions == subs;
        return false;
    };
    ASSERT_TRUE(wait_until([&] { return ready(a, 2) && knows(b, "a", {}) && knows(c, "a", {}); }, 10s));
    inbox box;
    a.subscribe("news.", [&box](const event& e) { box.add(e); });
    ASSERT_TRUE(wait_until([&] { return knows(b, "a", {"news."}) && knows(c, "a", {"news."}); }, 10s));
    ASSERT_TRUE(b.publish("news.b", 1));
    ASSERT_TRUE(c.publish("news.c", 2));
    ASSERT_TRUE(wait_until([&] { return box.total() == 2; }, 5s)) << box.total();
    EXPECT_EQ(box.seen(), (std::map<std::tuple<std::string, std::string, int>, int>{
                              {{"b", "news.b", 1}, 1}, {{"c", "news.c", 2}, 1}}));
    a.stop();   // before the inbox its handler writes goes away
}

// Handlers run on the delivery thread, not the reactor: one blocked for longer than the
// evasive timeout while its publisher floods it delays nothing else. Heartbeats go on, so
// neither side suspects the other; the SUB pauses at receive_queue, so the backlog in this
// process stays bounded and the excess is dropped at the publisher and counted as gaps.
TEST_F(node_fixture, slow_handler_pauses_receiving_without_stalling_heartbeats) {
    constexpr std::uint64_t flood = 20000;
    constexpr std::uint64_t after = 10;
    auto po = make_options("pub");
    po.send_hwm = 1000;
    auto so = make_options("sub");
    so.receive_queue = 100;
    so.receive_hwm = 1000;
    auto& pub = start(po);
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    std::atomic<std::uint64_t> handled{0}, last_seq{0};
    auto& sub = start(so);
    sub.subscribe("t", [&](const event& e) {
        gate.wait();
        ++handled;
        last_seq = e.seq();
    });
    const auto knows_subscription = [&] {
        for (const auto& p : pub.peers())
            if (p.name == "sub" && p.subscriptions == std::vector<std::string>{"t"}) return true;
        return false;
    };
    ASSERT_TRUE(wait_until([&] { return ready(sub, 1) && knows_subscription(); }, 10s));
    const auto joined = [](const node& n, const std::string& name) {
        for (const auto& p : n.peers())
            if (p.name == name) return p.state == peer_state::joined;
        return false;
    };

    for (std::uint64_t i = 0; i < flood; ++i) ASSERT_TRUE(pub.publish("t", i));
    ASSERT_TRUE(wait_until([&] { return sub.stats().receive_paused > 0; }, 5s));
    const auto evasive = so.liveness.evasive;
    EXPECT_FALSE(wait_until([&] { return !joined(sub, "pub") || !joined(pub, "sub"); },
                            evasive * 5 / 2))
        << "a blocked handler made the peers suspect each other";
    const auto held = sub.stats().events_in;   // all waiting on the one blocked handler
    EXPECT_GE(held, so.receive_queue);
    EXPECT_LE(held, so.receive_queue + 256) << "the backlog grew past receive_queue + a batch";
    EXPECT_EQ(handled, 0u);

    release.set_value();
    for (std::uint64_t i = 0; i < after; ++i) ASSERT_TRUE(pub.publish("t", i));
    ASSERT_TRUE(wait_until([&] { return last_seq == flood + after; }, 10s))
        << "delivery did not resume: last seq " << last_seq;
    const auto s = sub.stats();
    EXPECT_EQ(handled, s.events_in);
    EXPECT_EQ(s.events_in + s.events_gaps, flood + after) << "events lost without a count";
    EXPECT_GT(s.events_gaps, 0u);
    for (auto* n : {&pub, &sub}) {
        const auto& log = events(*n);
        const std::string other = n == &pub ? "sub" : "pub";
        EXPECT_EQ(log.count(peer_event_kind::evasive, other), 0u) << n->name();
        EXPECT_EQ(log.count(peer_event_kind::left, other), 0u) << n->name();
    }
    sub.stop();   // before the gate and counters its handler uses go away
}

TEST_F(node_fixture, publish_refuses_bad_topics_and_payloads_and_counts_early_calls) {
    auto o = make_options("p");
    o.max_event_size = 64;
    node n(o);
    EXPECT_FALSE(n.publish("t", 1));   // not started
    EXPECT_EQ(n.stats().publish_dropped, 0u);   // stats are zero when not running
    n.start();
    EXPECT_THROW(n.publish("", 1), std::invalid_argument);
    EXPECT_THROW(n.publish(std::string(256, 't'), 1), std::invalid_argument);
    EXPECT_THROW(n.publish(std::string("a\0b", 3), 1), std::invalid_argument);
    EXPECT_THROW(n.publish("t", std::string(100, 'x')), std::invalid_argument);
    const std::uint8_t not_msgpack[] = {0xc1};
    EXPECT_THROW(n.publish_packed("t", not_msgpack), std::invalid_argument);
    EXPECT_THROW(n.subscribe(std::string(256, 'p'), [](const event&) {}), std::invalid_argument);
    int major = 0, minor = 0, patch = 0;
    zmq_version(&major, &minor, &patch);
    if (std::tie(major, minor, patch) < std::tuple(4, 3, 5)) {   // its issue 4564
        EXPECT_THROW(n.subscribe(std::string(246, 'p'), [](const event&) {}), std::invalid_argument);
    }
    (void)n.subscribe(std::string(245, 'p'), [](const event&) {});
    EXPECT_TRUE(n.publish("t", 1));
    EXPECT_EQ(n.stats().publish_dropped, 1u);   // the call before start
}

TEST_F(node_fixture, subscribe_refuses_a_1001st_distinct_prefix_and_peers_see_all_1000) {
    // A node tells its peers every prefix in one SUBS message, of at most 1000.
    auto o = make_options("many");
    node n(o);
    const auto nothing = [](const event&) {};
    std::vector<subscription_id> ids;
    for (int i = 0; i < 1000; ++i) ids.push_back(n.subscribe("p." + std::to_string(i), nothing));
    EXPECT_THROW(n.subscribe("p.new", nothing), std::length_error);
    (void)n.subscribe("p.7", nothing);   // a prefix it has already: any number may share it
    n.unsubscribe(ids[0]);                // "p.0" is gone: room for one more
    (void)n.subscribe("p.new", nothing);
    EXPECT_THROW(n.subscribe("p.0", nothing), std::length_error);
    n.start();

    auto& peer = start("peer");
    ASSERT_TRUE(wait_until([&] {
        for (const auto& p : peer.peers())
            if (p.id == n.id()) return p.subscriptions.size() == 1000;
        return false;
    }, 10s)) << "the peer never saw the 1000 prefixes";
    n.stop();
}

TEST_F(node_fixture, subscribe_refuses_prefixes_past_64_kib_and_peers_keep_all_it_allowed) {
    // The local bound is the publishers' bound: a node it allows is never cut by a peer.
    auto o = make_options("wide");
    node n(o);
    std::atomic<int> got{0};
    const auto count = [&](const event&) { ++got; };
    std::string last;
    std::size_t bytes = 0;
    constexpr std::size_t len = 200;
    for (int i = 0; bytes + len <= protocol::max_subscription_bytes; ++i) {
        last = std::to_string(i) + std::string(len - std::to_string(i).size(), 'p');
        (void)n.subscribe(last, count);
        bytes += last.size();
    }
    const std::string fill(protocol::max_subscription_bytes - bytes, 'f');
    (void)n.subscribe(fill, count);   // exactly at the bound
    EXPECT_THROW(n.subscribe("x", count), std::length_error);
    n.start();
    auto& peer = start("peer");
    ASSERT_TRUE(wait_until([&] {
        peer.publish(last, 1);
        return got > 0;
    }, 10s)) << "the peer's PUB cut a subscriber within the bounds";
    EXPECT_EQ(peer.stats().subscriptions_refused, 0u);
    n.stop();
}

}  // namespace
}  // namespace zmesh::test
