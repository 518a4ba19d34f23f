// SPDX-License-Identifier: MPL-2.0
// bad input: malformed, foreign and unauthenticated frames at a node's ROUTER are dropped and
// counted; the node keeps working.
#include "node_fixture.hpp"
#include "support/socket_events.hpp"

#include "protocol/control.hpp"
#include "protocol/rpc.hpp"

#include <zmq.hpp>

#include <algorithm>

namespace zmesh::test {
namespace {

using names = std::vector<std::string>;

class bad_input : public node_fixture {
protected:
    zmq::context_t ctx_;

    // A raw DEALER at `n`'s ROUTER with the given routing id (none: libzmq picks one).
    zmq::socket_t raw_dealer(const node& n, const std::string& routing_id = {}) {
        zmq::socket_t s(ctx_, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        if (!routing_id.empty()) s.set(zmq::sockopt::routing_id, routing_id);
        s.connect(n.router_endpoint());
        return s;
    }
    static void send_frames(zmq::socket_t& s, const std::vector<std::vector<std::uint8_t>>& frames) {
        for (std::size_t i = 0; i < frames.size(); ++i)
            s.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
};

TEST_F(bad_input, malformed_frames_are_counted_and_dropped) {
    auto& a = start("a");
    auto d = raw_dealer(a);
    send_frames(d, {{0x01}});                          // truncated header
    send_frames(d, {{0x01, 0x01, 0xc1}});              // 0xc1: never valid msgpack
    send_frames(d, {{0x01, 0x01, 0x93, 0x01}});        // array of 3, one element present
    send_frames(d, {{0x01, 0x02, 0x90}, {0x00}});      // a second frame where none belongs
    EXPECT_TRUE(wait_until([&] { return a.stats().frames_invalid == 4; }, 2s))
        << a.stats().frames_invalid;
}

TEST_F(bad_input, unknown_message_type_is_counted_apart) {
    // A newer peer of the same version may send types we do not know: not an attack.
    auto& a = start("a");
    auto d = raw_dealer(a);
    send_frames(d, {{0x01, 0x7f, 0x90}});
    EXPECT_TRUE(wait_until([&] { return a.stats().frames_unknown_type == 1; }, 2s));
    EXPECT_EQ(a.stats().frames_invalid, 0u);
}

TEST_F(bad_input, unknown_version_is_counted_apart) {
    auto& a = start("a");
    auto d = raw_dealer(a);
    send_frames(d, {{0x02, 0x02, 0x91, 0x00}});
    send_frames(d, {{0xff, 0x01}});
    EXPECT_TRUE(wait_until([&] { return a.stats().frames_bad_version == 2; }, 2s));
    EXPECT_EQ(a.stats().frames_invalid, 0u);
}

TEST_F(bad_input, messages_without_a_handshake_are_refused) {
    auto& a = start("a");
    const auto stranger = protocol::node_id::random();
    auto d = raw_dealer(a, std::string(stranger.bytes().begin(), stranger.bytes().end()));
    const auto ping = protocol::encode_control(protocol::ping{1});
    const auto peers = protocol::encode_control(protocol::peers{{{protocol::node_id::random(),
        "ghost", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2"}}});
    send_frames(d, {ping});
    send_frames(d, {peers});
    send_frames(d, {protocol::encode_control(protocol::leave{})});
    EXPECT_TRUE(wait_until([&] { return a.stats().frames_unknown_sender == 3; }, 2s));
    EXPECT_TRUE(a.peers().empty());   // the ghost in the peer list was not dialled
}

TEST_F(bad_input, hello_from_another_mesh_is_ignored_and_counted) {
    auto& a = start("a");
    auto d = raw_dealer(a);
    protocol::hello h;
    h.mesh = mesh_ + "-elsewhere";
    h.id = protocol::node_id::random();
    h.name = "intruder";
    h.pub_endpoint = "tcp://127.0.0.1:9";
    h.router_endpoint = "tcp://127.0.0.1:9";
    send_frames(d, {protocol::encode_control(h)});
    EXPECT_TRUE(wait_until([&] { return a.stats().hellos_foreign_mesh == 1; }, 2s));
    EXPECT_TRUE(a.peers().empty());
}

TEST_F(bad_input, frame_over_the_routers_bound_ends_its_connection_unread) {
    // The bound must hold for the connections of the listener bound at start: libzmq copies
    // a socket's options into a listener when it binds, so one set later never applies.
    auto& a = start("a");
    zmq::socket_t d(ctx_, zmq::socket_type::dealer);
    d.set(zmq::sockopt::linger, 0);
    socket_events events(ctx_, d, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    d.connect(a.router_endpoint());
    ASSERT_EQ(events.next(5s), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    const auto bound = std::max(protocol::max_control_size,
                                protocol::max_rpc_header_size + a.config().max_rpc_size);
    std::vector<std::uint8_t> big(bound + 1, 0x01);
    send_frames(d, {big});
    EXPECT_EQ(events.next(5s), ZMQ_EVENT_DISCONNECTED);
    const auto s = a.stats();
    EXPECT_EQ(s.frames_invalid + s.frames_bad_version + s.frames_unknown_type +
                  s.frames_unknown_sender, 0u);   // never read, so never counted
}

TEST_F(bad_input, what_a_seed_sends_back_on_its_probe_is_bounded) {
    // Nothing comes back on a seed probe; whatever listens at a seed's endpoint may not make
    // the node buffer a large frame there.
    zmq::socket_t seed(ctx_, zmq::socket_type::router);
    seed.set(zmq::sockopt::linger, 0);
    socket_events events(ctx_, seed, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    seed.bind("tcp://127.0.0.1:*");
    auto o = make_options("a");
    o.beacon_interval = 0ms;
    o.seeds = {seed.get(zmq::sockopt::last_endpoint)};
    start(o);
    ASSERT_EQ(events.next(5s), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    zmq::message_t probe_routing, hello;
    zmq::pollitem_t item{seed.handle(), 0, ZMQ_POLLIN, 0};
    ASSERT_GT(zmq::poll(&item, 1, 5s), 0) << "no HELLO from the probe";
    (void)seed.recv(probe_routing);
    (void)seed.recv(hello);
    seed.send(probe_routing, zmq::send_flags::sndmore);
    seed.send(zmq::buffer(std::vector<std::uint8_t>(4096, 0x01)), zmq::send_flags::none);
    EXPECT_EQ(events.next(5s), ZMQ_EVENT_DISCONNECTED) << "the probe took a 4 KiB frame";
}

TEST_F(bad_input, node_keeps_working_after_a_burst_of_random_frames) {
    auto& a = start("a");
    auto d = raw_dealer(a);
    std::uint32_t x = 12345;
    for (int i = 0; i < 2000; ++i) {
        std::vector<std::uint8_t> frame(1 + (x % 64));
        for (auto& byte : frame) {
            x = x * 1103515245 + 12345;
            byte = static_cast<std::uint8_t>(x >> 16);
        }
        if (i % 2) frame[0] = 0x01;   // half of them get past the version check
        send_frames(d, {frame});
    }
    EXPECT_TRUE(wait_until([&] {
        const auto s = a.stats();
        return s.frames_invalid + s.frames_bad_version + s.frames_unknown_type +
                   s.frames_unknown_sender + s.hellos_foreign_mesh >= 2000;
    }, 5s));
    start("b");
    EXPECT_TRUE(wait_until([&] { return joined_names(a) == names{"b"}; }, 2s));
}

}  // namespace
}  // namespace zmesh::test
