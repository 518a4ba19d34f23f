// SPDX-License-Identifier: MPL-2.0
// subscription bounds: what a stranger's SUB may subscribe at a node's PUB. A prefix over
// max_topic_len, or one past the per-connection bounds, ends that connection (its
// subscriptions with it); a frame far over them ends it before libzmq allocates it. Members
// keep getting events all the while.
#include "node_fixture.hpp"

#include <zmq.hpp>

#include <atomic>
#include <cstring>
#include <string>

namespace zmesh::test {
namespace {

class subscription_bounds : public node_fixture {
protected:
    zmq::context_t ctx_;

    // A raw SUB at `n`'s PUB, reporting its own connection events to `events`.
    zmq::socket_t stranger_sub(const node& n, zmq::socket_t& events, const std::string& name) {
        zmq::socket_t s(ctx_, zmq::socket_type::sub);
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::sndhwm, 0);   // else libzmq drops our 1001st subscription itself
        const std::string endpoint = "inproc://subscription_bounds_" + name;
        zmq_socket_monitor(s.handle(), endpoint.c_str(),
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
        events = zmq::socket_t(ctx_, zmq::socket_type::pair);
        events.connect(endpoint);
        s.connect(n.pub_endpoint());
        return s;
    }
    // Returns: the next connection event of `events` (0 after `timeout`).
    static int next_event(zmq::socket_t& events, std::chrono::milliseconds timeout) {
        zmq::pollitem_t item{events.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, timeout) <= 0) return 0;
        zmq::message_t kind, address;
        (void)events.recv(kind);
        (void)events.recv(address);
        std::uint16_t id = 0;
        std::memcpy(&id, kind.data(), sizeof id);
        return id;
    }
};

TEST_F(subscription_bounds, prefix_over_max_topic_len_ends_the_connection) {
    auto& a = start("a");
    zmq::socket_t events;
    auto s = stranger_sub(a, events, "long");
    ASSERT_EQ(next_event(events, 5s), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    s.set(zmq::sockopt::subscribe, std::string(256, 'x'));
    EXPECT_EQ(next_event(events, 5s), ZMQ_EVENT_DISCONNECTED);
    EXPECT_TRUE(wait_until([&] { return a.stats().connections_cut == 1; }, 2s));
    EXPECT_EQ(a.stats().subscriptions_refused, 1u);
    zmq_socket_monitor(s.handle(), nullptr, 0);
}

TEST_F(subscription_bounds, frame_over_any_subscription_ends_the_connection_unread) {
    auto& a = start("a");
    zmq::socket_t events;
    auto s = stranger_sub(a, events, "huge");
    ASSERT_EQ(next_event(events, 5s), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    // Over max_pub_frame. (Not megabytes: libzmq's own SUB, here the stranger's, frees its
    // trie recursively and overflows its stack on a prefix that long.)
    s.set(zmq::sockopt::subscribe, std::string(4096, 'x'));
    EXPECT_EQ(next_event(events, 5s), ZMQ_EVENT_DISCONNECTED);
    EXPECT_EQ(a.stats().subscriptions_refused, 0u);   // libzmq refused it, unread
    zmq_socket_monitor(s.handle(), nullptr, 0);
}

TEST_F(subscription_bounds, one_prefix_past_the_per_connection_count_ends_the_connection) {
    auto& a = start("a");
    auto& b = start("b");
    std::atomic<int> got{0};
    b.subscribe("t", [&](const event&) { ++got; });
    ASSERT_TRUE(wait_until([&] { return joined_names(a) == std::vector<std::string>{"b"}; }, 5s));
    zmq::socket_t events;
    auto s = stranger_sub(a, events, "many");
    ASSERT_EQ(next_event(events, 5s), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    for (std::size_t i = 0; i <= protocol::max_subscriptions; ++i)
        s.set(zmq::sockopt::subscribe, "p" + std::to_string(i));
    EXPECT_EQ(next_event(events, 5s), ZMQ_EVENT_DISCONNECTED);
    EXPECT_TRUE(wait_until([&] { return a.stats().subscriptions_refused == 1; }, 2s));
    // A member's subscription is untouched: its events still flow.
    EXPECT_TRUE(wait_until([&] {
        a.publish("t", 1);
        return got > 0;
    }, 5s));
    zmq_socket_monitor(s.handle(), nullptr, 0);
}

}  // namespace
}  // namespace zmesh::test
