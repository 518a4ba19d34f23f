// SPDX-License-Identifier: MPL-2.0
// rpc input: malformed requests at a server's ROUTER, from a fake peer that did the HELLO
// handshake by hand, are answered with an error or dropped, and counted; the server keeps
// serving.
#include "node_fixture.hpp"

#include "protocol/control.hpp"
#include "protocol/rpc.hpp"

#include <zmq.hpp>

namespace zmesh::test {
namespace {

using names = std::vector<std::string>;
using bytes = std::vector<std::uint8_t>;
using std::chrono::steady_clock;

const bytes nil = {0xc0};
const bytes echo_body = {0x92, 0x01, 0xa1, 'z'};   // [1, "z"]

struct raw_reply {
    protocol::reply_header header;
    bytes body;
};

bytes header(std::uint64_t id, const std::string& method) {
    return protocol::encode_request_header({id, method, 5000});
}

class rpc_input : public node_fixture {
protected:
    zmq::context_t ctx_;
    const protocol::node_id fake_id_ = protocol::node_id::random();
    zmq::socket_t fake_router_{ctx_, zmq::socket_type::router};   // the server dials back here
    zmq::socket_t fake_pub_{ctx_, zmq::socket_type::pub};         // and its SUB here
    zmq::socket_t dealer_;                                        // the fake's, at the server
    node* server_ = nullptr;
    std::uint64_t next_id_ = 1000;

    void SetUp() override {
        auto o = make_options("server");
        // The fake never answers PINGs: keep it joined for the whole test all the same.
        o.liveness.evasive = 20s;
        o.liveness.expired = 60s;
        auto n = std::make_unique<node>(o);
        n->serve("echo", [](const request& r) -> response { return r; });
        n->start();
        server_ = n.get();
        nodes_.push_back(std::move(n));
        logs_.push_back(std::make_shared<event_log>());

        for (auto* s : {&fake_router_, &fake_pub_}) {
            s->set(zmq::sockopt::linger, 0);
            s->bind("tcp://127.0.0.1:*");
        }
        dealer_ = raw_dealer(fake_id_);
        const protocol::hello h{mesh_, fake_id_, "fake",
                                fake_pub_.get(zmq::sockopt::last_endpoint),
                                fake_router_.get(zmq::sockopt::last_endpoint), 0, {}};
        send_frames(dealer_, {protocol::encode_control(h)});
        ASSERT_TRUE(wait_until([&] { return joined_names(*server_) == names{"fake"}; }, 5s));
    }

    // A raw DEALER at the server's ROUTER whose routing id is `id`.
    zmq::socket_t raw_dealer(const protocol::node_id& id) {
        zmq::socket_t s(ctx_, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::routing_id, zmq::buffer(id.bytes()));
        s.connect(server_->router_endpoint());
        return s;
    }
    static void send_frames(zmq::socket_t& s, const std::vector<bytes>& frames) {
        for (std::size_t i = 0; i < frames.size(); ++i)
            s.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }

    // Returns: the next REPLY the server sent to the fake's ROUTER (its control messages
    // skipped), or nullopt when none came within `timeout`.
    std::optional<raw_reply> next_reply(milliseconds timeout = 3s) {
        const auto deadline = steady_clock::now() + timeout;
        while (true) {
            const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
            if (left <= 0ms) return std::nullopt;
            zmq::pollitem_t item{fake_router_.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, left);
            if (!(item.revents & ZMQ_POLLIN)) continue;
            std::vector<zmq::message_t> frames;
            do {
                frames.emplace_back();
                (void)fake_router_.recv(frames.back());
            } while (frames.back().more());
            if (frames.size() != 3) continue;   // [sender][HELLO, PING, SUBS, ...]
            EXPECT_EQ(frames[0].to_string(), std::string(server_->id().bytes().begin(),
                                                         server_->id().bytes().end()));
            const auto* b = static_cast<const std::uint8_t*>(frames[2].data());
            const auto h = protocol::decode_reply_header(
                {static_cast<const std::uint8_t*>(frames[1].data()), frames[1].size()});
            if (!h) {
                ADD_FAILURE() << "the server sent a malformed reply header";
                continue;
            }
            return raw_reply{*h, bytes(b, b + frames[2].size())};
        }
    }

    // Sends a valid echo request and checks that its answer is the next reply the fake gets:
    // the server still serves, and answered none of what came before unless the test read it.
    void expect_echo_answered_next() {
        const auto id = next_id_++;
        send_frames(dealer_, {header(id, "echo"), echo_body});
        const auto r = next_reply();
        ASSERT_TRUE(r) << "no reply to a valid echo";
        EXPECT_EQ(r->header.id, id);
        EXPECT_EQ(r->header.code, protocol::rpc_ok);
        EXPECT_EQ(r->body, echo_body);
    }
};

TEST_F(rpc_input, arguments_that_are_not_msgpack_get_a_bad_request_reply) {
    send_frames(dealer_, {header(1, "echo"), {0xc1}});
    const auto r = next_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header.id, 1u);
    EXPECT_EQ(r->header.code, protocol::rpc_bad_request);
    EXPECT_EQ(r->body, nil);
    const auto s = server_->stats();
    EXPECT_EQ(s.rpc_bad_requests, 1u);
    EXPECT_EQ(s.rpc_served, 0u);
    expect_echo_answered_next();
}

TEST_F(rpc_input, garbage_request_header_is_dropped_unanswered_and_counted) {
    std::vector<bytes> headers = {
        {0x01, 0x10},                                         // no body at all
        {0x01, 0x10, 0xc1},                                   // never valid msgpack
        {0x01, 0x10, 0xde, 0xad, 0xbe, 0xef},                 // map of 44478 pairs, truncated
        {0x01, 0x10, 0x93, 0x01, 0xa4, 'e', 'c', 'h', 'o'},   // array of 3, two present
        {0x01, 0x10, 0x93, 0xa1, 'x', 0xa4, 'e', 'c', 'h', 'o', 0x00},   // id is a string
        {0x01, 0x10, 0x93, 0x01, 0xa0, 0x00},                 // empty method
        {0x01, 0x10, 0x93, 0x01, 0xa4, 'e', 'c', 'h', 'o', 0xff},        // negative timeout
    };
    std::uint32_t x = 4242;
    for (int i = 0; i < 20; ++i) {   // and random bytes after a valid head
        bytes h = {0x01, 0x10};
        for (int j = 0; j < 1 + i * 3; ++j) {
            x = x * 1103515245 + 12345;
            h.push_back(static_cast<std::uint8_t>(x >> 16));
        }
        headers.push_back(h);
    }
    for (std::size_t i = 0; i < headers.size(); ++i) {
        ASSERT_FALSE(protocol::decode_request_header(headers[i])) << "test input " << i << " decodes";
        send_frames(dealer_, {headers[i], {0x90}});
    }
    EXPECT_TRUE(wait_until([&] { return server_->stats().rpc_bad_requests == headers.size(); }, 3s))
        << server_->stats().rpc_bad_requests;
    expect_echo_answered_next();
    EXPECT_EQ(server_->stats().rpc_served, 1u);   // the echo only
}

TEST_F(rpc_input, unknown_method_gets_a_no_such_method_reply) {
    send_frames(dealer_, {header(2, "no.such.method"), nil});
    const auto r = next_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header.id, 2u);
    EXPECT_EQ(r->header.code, protocol::rpc_no_such_method);
    EXPECT_NE(r->header.message.find("no.such.method"), std::string::npos) << r->header.message;
    EXPECT_EQ(r->body, nil);
    EXPECT_EQ(server_->stats().rpc_unknown_method, 1u);
    expect_echo_answered_next();
}

TEST_F(rpc_input, request_of_one_frame_or_three_is_counted_invalid) {
    send_frames(dealer_, {header(3, "echo")});
    send_frames(dealer_, {header(4, "echo"), echo_body, echo_body});
    send_frames(dealer_, {header(5, "echo"), echo_body, echo_body, echo_body});
    EXPECT_TRUE(wait_until([&] { return server_->stats().frames_invalid == 3; }, 3s))
        << server_->stats().frames_invalid;
    expect_echo_answered_next();
    const auto s = server_->stats();
    EXPECT_EQ(s.rpc_served, 1u);
    EXPECT_EQ(s.rpc_bad_requests, 0u);
}

TEST_F(rpc_input, request_from_a_dealer_that_never_said_hello_is_refused) {
    auto stranger = raw_dealer(protocol::node_id::random());
    send_frames(stranger, {header(6, "echo"), echo_body});
    zmq::socket_t anonymous(ctx_, zmq::socket_type::dealer);   // libzmq's 5-byte routing id
    anonymous.set(zmq::sockopt::linger, 0);
    anonymous.connect(server_->router_endpoint());
    send_frames(anonymous, {header(7, "echo"), echo_body});
    EXPECT_TRUE(wait_until([&] { return server_->stats().frames_unknown_sender == 2; }, 3s))
        << server_->stats().frames_unknown_sender;
    expect_echo_answered_next();
    const auto s = server_->stats();
    EXPECT_EQ(s.rpc_served, 1u);
    EXPECT_EQ(s.rpc_replies_dropped, 0u);
    EXPECT_EQ(joined_names(*server_), names{"fake"});
}

TEST_F(rpc_input, reply_for_no_pending_call_is_counted_stray) {
    send_frames(dealer_, {protocol::encode_reply_header({77, 0, {}}), nil});
    EXPECT_TRUE(wait_until([&] { return server_->stats().rpc_stray_replies == 1; }, 3s));
    expect_echo_answered_next();
}

TEST_F(rpc_input, server_keeps_serving_real_callers_after_a_burst_of_bad_requests) {
    auto stranger = raw_dealer(protocol::node_id::random());
    for (std::uint64_t i = 0; i < 200; ++i) {
        send_frames(dealer_, {header(i, "echo"), {0xc1}});
        send_frames(dealer_, {{0x01, 0x10, 0xc1}, nil});
        send_frames(dealer_, {header(i, "missing"), nil});
        send_frames(dealer_, {header(i, "echo")});
        send_frames(stranger, {header(i, "echo"), nil});
    }
    EXPECT_TRUE(wait_until([&] {
        const auto s = server_->stats();
        return s.rpc_bad_requests == 400 && s.rpc_unknown_method == 200 &&
               s.frames_invalid == 200 && s.frames_unknown_sender == 200;
    }, 5s));
    for (int i = 0; i < 400; ++i) {   // one bad-request and one no-such-method reply each
        const auto r = next_reply();
        ASSERT_TRUE(r) << "reply " << i << " missing";
        EXPECT_EQ(r->header.code, i % 2 ? protocol::rpc_no_such_method : protocol::rpc_bad_request);
        EXPECT_EQ(r->header.id, static_cast<std::uint64_t>(i / 2));
    }
    expect_echo_answered_next();

    auto& client = start("client");
    ASSERT_TRUE(wait_until([&] {
        for (const auto& p : client.peers())
            if (p.id == server_->id() && p.state == peer_state::joined) return true;
        return false;
    }, 5s));
    auto f = client.call("echo", std::string("still here"), 2s);
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(f.get().as<std::string>(), "still here");
}

}  // namespace
}  // namespace zmesh::test
