// SPDX-License-Identifier: MPL-2.0
// subscription bounds: what a stranger's SUB may subscribe at a node's PUB. A prefix over
// max_topic_len, or one past the per-connection bounds, ends that connection (its
// subscriptions with it); a frame far over them ends it before libzmq allocates it. Members
// keep getting events all the while.
#include "node_fixture.hpp"
#include "support/socket_events.hpp"

#include <zmq.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace zmesh::test {
namespace {

class subscription_bounds : public node_fixture {
protected:
    zmq::context_t ctx_;
    zmq::socket_t sub_{ctx_, zmq::socket_type::sub};
    std::unique_ptr<socket_events> events_;

    // Connects a stranger's SUB to `n`'s PUB, and waits for its handshake.
    void connect_stranger(const node& n) {
        sub_.set(zmq::sockopt::linger, 0);
        sub_.set(zmq::sockopt::sndhwm, 0);   // else libzmq drops our 1001st subscription itself
        events_ = std::make_unique<socket_events>(ctx_, sub_, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
        sub_.connect(n.pub_endpoint());
        ASSERT_EQ(events_->next(5s), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    }
    // Returns: whether the node dropped the stranger's connection within 5 s.
    bool cut() { return events_->next(5s) == ZMQ_EVENT_DISCONNECTED; }
};

TEST_F(subscription_bounds, prefix_over_max_topic_len_ends_the_connection) {
    auto& a = start("a");
    connect_stranger(a);
    sub_.set(zmq::sockopt::subscribe, std::string(256, 'x'));
    EXPECT_TRUE(cut());
    EXPECT_TRUE(wait_until([&] { return a.stats().connections_cut == 1; }, 2s));
    EXPECT_EQ(a.stats().subscriptions_refused, 1u);
}

TEST_F(subscription_bounds, frame_over_any_subscription_ends_the_connection_unread) {
    auto& a = start("a");
    connect_stranger(a);
    // Over max_pub_frame. (Not megabytes: libzmq's own SUB, here the stranger's, frees its
    // trie recursively and overflows its stack on a prefix that long.)
    sub_.set(zmq::sockopt::subscribe, std::string(4096, 'x'));
    EXPECT_TRUE(cut());
    EXPECT_EQ(a.stats().subscriptions_refused, 0u);   // libzmq refused it, unread
}

TEST_F(subscription_bounds, one_prefix_past_the_per_connection_count_ends_the_connection) {
    auto& a = start("a");
    auto& b = start("b");
    std::atomic<int> got{0};
    b.subscribe("t", [&](const event&) { ++got; });
    ASSERT_TRUE(wait_until([&] { return joined_names(a) == std::vector<std::string>{"b"}; }, 5s));
    connect_stranger(a);
    for (std::size_t i = 0; i <= max_subscriptions; ++i)
        sub_.set(zmq::sockopt::subscribe, "p" + std::to_string(i));
    EXPECT_TRUE(cut());
    EXPECT_TRUE(wait_until([&] { return a.stats().subscriptions_refused == 1; }, 2s));
    // A member's subscription is untouched: its events still flow.
    EXPECT_TRUE(wait_until([&] {
        a.publish("t", 1);
        return got > 0;
    }, 5s));
    b.stop();   // before `got` goes away
}

}  // namespace
}  // namespace zmesh::test
