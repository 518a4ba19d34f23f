// SPDX-License-Identifier: MPL-2.0
// listeners: a connection's subscriptions are counted on that connection's record however
// late the node's loop reads the monitor's report of it being accepted (which libzmq
// delivers on a pipe of its own). A real XPUB and SUB, with the loop's turns played by hand.
#include "node/listeners.hpp"
#include "support/socket_events.hpp"

#include <zmesh/limits.hpp>
#include <zmq.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;

class listeners_test : public ::testing::Test {
protected:
    void SetUp() override {
        pub_.set(zmq::sockopt::xpub_verboser, 1);
        pub_.set(zmq::sockopt::rcvhwm, 64);   // as the node's: subscriptions wait in libzmq
        listeners_.watch(pub_, listener::pub);
        pub_.bind("tcp://127.0.0.1:*");
        const std::string endpoint = pub_.get(zmq::sockopt::last_endpoint);
        listeners_.bound(listener::pub, static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1))));
        endpoint_ = endpoint;
    }

    void TearDown() override {
        zmq::socket_t no_router;
        listeners_.close(pub_, no_router);
    }

    // Reads subscriptions from the PUB into the listeners until `count` were read or 10 s
    // pass; after the `monitor_after`th, the loop reads the monitor (its turn came late).
    // Returns: how many were read.
    int read_subscriptions(int count, int monitor_after) {
        int read = 0;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        zmq::pollitem_t item{pub_.handle(), 0, ZMQ_POLLIN, 0};
        while (read < count && std::chrono::steady_clock::now() < deadline) {
            zmq::poll(&item, 1, 100ms);
            zmq::message_t msg;
            while (read < count && pub_.recv(msg, zmq::recv_flags::dontwait)) {
                listeners_.on_subscription(msg);
                if (++read == monitor_after) listeners_.on_monitor(listener::pub);
            }
        }
        return read;
    }

    options opts_;
    protocol::node_id self_ = protocol::node_id::random();
    node_stats stats_;
    node_context ctx_{opts_, self_, stats_};
    zmq::context_t net_;
    security security_{ctx_, net_};
    listeners listeners_{ctx_, net_, security_};
    zmq::socket_t pub_{net_, zmq::socket_type::xpub};
    std::string endpoint_;
};

TEST_F(listeners_test, a_connection_accepted_report_read_late_does_not_restart_its_count) {
    zmq::context_t stranger_ctx;
    zmq::socket_t sub(stranger_ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::sndhwm, 0);   // else libzmq drops our 1001st subscription itself
    test::socket_events events(stranger_ctx, sub, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    sub.connect(endpoint_);
    ASSERT_EQ(events.next(5s), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    const int past_the_bound = static_cast<int>(max_subscriptions) + 1;
    for (int i = 0; i < past_the_bound; ++i) sub.set(zmq::sockopt::subscribe, "p" + std::to_string(i));

    // Were the 100 read before the report counted on a record that the report then replaced,
    // the 1001st would find 900 and pass.
    ASSERT_EQ(read_subscriptions(past_the_bound, 100), past_the_bound);
    EXPECT_EQ(stats_.subscriptions_refused, 1u);
    EXPECT_EQ(stats_.connections_cut, 1u);
    EXPECT_EQ(events.next(5s), ZMQ_EVENT_DISCONNECTED);
}

}  // namespace
}  // namespace zmesh::detail
