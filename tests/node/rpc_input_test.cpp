// SPDX-License-Identifier: MPL-2.0
// rpc input: malformed requests at a server's ROUTER, from a fake peer that did the HELLO
// handshake by hand, are answered with an error or dropped, and counted; the server keeps
// serving. The same fake also leaves in the middle of a call, and answers HELLO late.
#include "fake_peer.hpp"
#include "node_fixture.hpp"

#include "discovery/beacon_socket.hpp"
#include "protocol/beacon.hpp"
#include "protocol/control.hpp"
#include "protocol/endpoint.hpp"
#include "protocol/rpc.hpp"
#include "support/rpc_frames.hpp"

#include <zmq.hpp>

#include <variant>

namespace zmesh::test {
namespace {

using names = std::vector<std::string>;
using bytes = std::vector<std::uint8_t>;
using std::chrono::steady_clock;

const bytes nil = {0xc0};
const bytes echo_body = {0x92, 0x01, 0xa1, 'z'};   // [1, "z"]

// A REPLY read back, its header copied out of the frame it came in.
struct raw_reply {
    struct {
        std::uint64_t id = 0;
        std::int64_t code = 0;
        std::string message;
    } header;
    bytes body;
};

// Returns: a request header alone, with no body after it.
bytes header(std::uint64_t id, const std::string& method) {
    return encoded_request({id, method, 5000});
}
// Returns: a request frame, the header then `body`.
bytes request_frame(std::uint64_t id, const std::string& method, const bytes& body) {
    return encoded_request({id, method, 5000}, body);
}
bytes concat(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

class rpc_input : public node_fixture {
protected:
    fake_peer fake_;
    const protocol::node_id& fake_id_ = fake_.id;
    node* server_ = nullptr;
    std::uint64_t next_id_ = 1000;

    void SetUp() override {
        start_server_and_fake();
        fake_.say_hello(mesh_);
        ASSERT_TRUE(wait_until([&] { return joined_names(*server_) == names{"fake"}; }, 5s));
    }

    void TearDown() override {
        for (auto& n : nodes_) n->stop();   // while the fake still takes its LEAVE
    }

    void start_server_and_fake() {
        auto o = options_with_fakes("server");
        o.liveness.handshake = 60s;   // and its handshake open
        auto n = std::make_unique<node>(o);
        n->serve("echo", [](const request& r) -> response { return r; });
        auto log = std::make_shared<event_log>();
        n->on_peer_event([log](const peer_event& e) { (*log)(e); });
        n->start();
        server_ = n.get();
        nodes_.push_back(std::move(n));
        logs_.push_back(log);
        fake_.connect(*server_);
    }
    void send(const std::vector<bytes>& frames) { fake_.send(frames); }
    std::vector<bytes> next_from_server(std::size_t count, milliseconds timeout = 3s) {
        return fake_.next_from_node(count, timeout);
    }

    // Returns: the next one-frame message of `type` from the server (others skipped), or
    // nothing after `timeout`.
    std::optional<bytes> next_of_type(std::uint8_t type, milliseconds timeout) {
        const auto deadline = steady_clock::now() + timeout;
        while (steady_clock::now() < deadline) {
            auto frames = next_from_server(1, std::chrono::duration_cast<milliseconds>(
                                                  deadline - steady_clock::now()));
            if (frames.empty()) break;
            if (frames[0].size() >= 2 && frames[0][1] == type) return std::move(frames[0]);
        }
        return std::nullopt;
    }
    // Returns: the next REPLY from the server, which comes back on the fake's DEALER, where
    // its REQUEST went; nullopt if none comes, or if something else does.
    std::optional<raw_reply> next_reply(milliseconds timeout = 3s) {
        const auto frames = fake_.next_on_dealer(timeout);
        if (frames.empty()) return std::nullopt;
        if (frames.size() != 1 || frames[0].size() < 2 || frames[0][1] != protocol::reply_type) {
            ADD_FAILURE() << "the server sent the fake's DEALER something besides one REPLY frame";
            return std::nullopt;
        }
        const auto m = protocol::decode_reply(frames[0]);
        if (!m) {
            ADD_FAILURE() << "the server sent a malformed reply";
            return std::nullopt;
        }
        return raw_reply{{m->header.id, m->header.code, std::string(m->header.message)},
                         bytes(m->body.begin(), m->body.end())};
    }
    // Returns: the next HELLO from the server, or nullopt.
    std::optional<protocol::hello> next_hello(milliseconds timeout = 3s) {
        const auto deadline = steady_clock::now() + timeout;
        while (steady_clock::now() < deadline) {
            const auto frames = next_from_server(1, std::chrono::duration_cast<milliseconds>(
                                                        deadline - steady_clock::now()));
            if (frames.empty()) break;
            const auto msg = protocol::decode_control(frames[0]);
            if (msg && std::holds_alternative<protocol::hello>(*msg))
                return std::get<protocol::hello>(*msg);
        }
        return std::nullopt;
    }

    // Sends a valid echo request and checks that its answer is the next reply the fake gets:
    // the server still serves, and answered none of what came before unless the test read it.
    void expect_echo_answered_next() {
        const auto id = next_id_++;
        send({request_frame(id, "echo", echo_body)});
        const auto r = next_reply();
        ASSERT_TRUE(r) << "no reply to a valid echo";
        EXPECT_EQ(r->header.id, id);
        EXPECT_EQ(r->header.code, protocol::rpc_ok);
        EXPECT_EQ(r->body, echo_body);
    }
};

TEST_F(rpc_input, arguments_that_are_not_msgpack_get_a_bad_request_reply) {
    send({request_frame(1, "echo", {0xc1})});          // never valid msgpack
    send({header(2, "echo")});                   // nothing after the header
    send({request_frame(3, "echo", {0x01, 0x02})});    // two objects, not one
    for (std::uint64_t id = 1; id <= 3; ++id) {
        const auto r = next_reply();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->header.id, id);
        EXPECT_EQ(r->header.code, protocol::rpc_bad_request);
        EXPECT_EQ(r->body, nil);
    }
    const auto s = server_->stats();
    EXPECT_EQ(s.rpc_bad_requests, 3u);
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
        const auto frame = concat(headers[i], {0x90});   // a valid body after it
        ASSERT_FALSE(protocol::decode_request(frame)) << "input " << i << " decodes";
        send({frame});
    }
    EXPECT_TRUE(wait_until([&] { return server_->stats().rpc_bad_requests == headers.size(); }, 3s))
        << server_->stats().rpc_bad_requests;
    expect_echo_answered_next();
    EXPECT_EQ(server_->stats().rpc_served, 1u);   // the echo only
}

TEST_F(rpc_input, request_with_a_zero_timeout_is_dropped_as_expired_unrun) {
    // Its caller has given up already: nobody waits for the answer.
    send({encoded_request({4, "echo", 0}, echo_body)});
    EXPECT_TRUE(wait_until([&] { return server_->stats().rpc_expired == 1; }, 3s));
    expect_echo_answered_next();   // and no reply to the first came before it
    EXPECT_EQ(server_->stats().rpc_served, 1u);
}

TEST_F(rpc_input, unknown_method_gets_a_no_such_method_reply) {
    send({request_frame(2, "no.such.method", nil)});
    const auto r = next_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header.id, 2u);
    EXPECT_EQ(r->header.code, protocol::rpc_no_such_method);
    EXPECT_NE(r->header.message.find("no.such.method"), std::string::npos) << r->header.message;
    EXPECT_EQ(r->body, nil);
    EXPECT_EQ(server_->stats().rpc_unknown_method, 1u);
    expect_echo_answered_next();
}

TEST_F(rpc_input, request_of_two_frames_or_more_is_counted_invalid) {
    send({header(3, "echo"), echo_body});   // revision 4's [header][body]
    send({request_frame(4, "echo", echo_body), echo_body});
    send({request_frame(5, "echo", echo_body), echo_body, echo_body});
    EXPECT_TRUE(wait_until([&] { return server_->stats().frames_invalid == 3; }, 3s))
        << server_->stats().frames_invalid;
    expect_echo_answered_next();
    const auto s = server_->stats();
    EXPECT_EQ(s.rpc_served, 1u);
    EXPECT_EQ(s.rpc_bad_requests, 0u);
}

TEST_F(rpc_input, request_from_a_dealer_that_never_said_hello_is_refused) {
    auto stranger = fake_.dealer_at(*server_, protocol::node_id::random());
    fake_peer::send_frames(stranger, {request_frame(6, "echo", echo_body)});
    zmq::socket_t anonymous(fake_.context(), zmq::socket_type::dealer);   // libzmq's 5-byte routing id
    anonymous.set(zmq::sockopt::linger, 0);
    anonymous.connect(server_->router_endpoint());
    fake_peer::send_frames(anonymous, {request_frame(7, "echo", echo_body)});
    EXPECT_TRUE(wait_until([&] { return server_->stats().frames_unknown_sender == 2; }, 3s))
        << server_->stats().frames_unknown_sender;
    expect_echo_answered_next();
    const auto s = server_->stats();
    EXPECT_EQ(s.rpc_served, 1u);
    EXPECT_EQ(s.rpc_replies_dropped, 0u);
    EXPECT_EQ(joined_names(*server_), names{"fake"});
}

TEST_F(rpc_input, reply_for_no_pending_call_is_counted_stray) {
    send({encoded_reply({77, 0, {}}, nil)});
    EXPECT_TRUE(wait_until([&] { return server_->stats().rpc_stray_replies == 1; }, 3s));
    expect_echo_answered_next();
}

TEST_F(rpc_input, server_keeps_serving_real_callers_after_a_burst_of_bad_requests) {
    auto stranger = fake_.dealer_at(*server_, protocol::node_id::random());
    for (std::uint64_t i = 0; i < 200; ++i) {
        send({request_frame(i, "echo", {0xc1})});
        send({{0x01, 0x10, 0xc1, 0xc0}});
        send({request_frame(i, "missing", nil)});
        send({request_frame(i, "echo", nil), nil});
        fake_peer::send_frames(stranger, {request_frame(i, "echo", nil)});
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

TEST_F(rpc_input, reply_on_the_link_completes_the_call_and_one_on_the_router_still_does) {
    // The fake answers two calls: on the link the request came by (this protocol), and
    // through its own DEALER to the node's ROUTER (how an earlier draft answered).
    for (const bool on_link : {true, false}) {
        auto f = server_->call_peer(fake_id_, "answer", 1, 5s);
        const auto frame = next_of_type(protocol::request_type, 3s);
        ASSERT_TRUE(frame) << "the request never reached the fake";
        const auto m = protocol::decode_request(*frame);
        ASSERT_TRUE(m);
        const auto reply = encoded_reply({m->header.id, 0, {}}, bytes{0x2a});
        if (on_link)
            fake_.send_on_its_link({reply});
        else
            send({reply});
        ASSERT_EQ(f.wait_for(3s), std::future_status::ready) << "on_link " << on_link;
        EXPECT_EQ(f.get().as<int>(), 42);
    }
    EXPECT_EQ(server_->stats().rpc_ok, 2u);
}

TEST_F(rpc_input, anything_but_one_reply_frame_on_a_link_is_dropped_and_counted) {
    // The server's HELLO arrives on its link: the link is connected, so what follows is
    // not dropped by the fake's ROUTER for want of a connection.
    ASSERT_TRUE(next_hello()) << "the server never dialled the fake";
    const auto before = server_->stats();
    fake_.send_on_its_link({protocol::encode_control(protocol::ping{1})});   // control: not here
    fake_.send_on_its_link({request_frame(1, "echo", echo_body)});          // a request: neither
    fake_.send_on_its_link({encoded_reply({9, 0, {}}, nil), nil}); // two frames
    fake_.send_on_its_link({encoded_reply({77, 0, {}}, nil)});     // for no call
    EXPECT_TRUE(wait_until([&] {
        const auto s = server_->stats();
        return s.frames_invalid == before.frames_invalid + 3 &&
               s.rpc_stray_replies == before.rpc_stray_replies + 1;
    }, 3s)) << server_->stats().frames_invalid << " " << server_->stats().rpc_stray_replies;
    EXPECT_EQ(server_->stats().rpc_served, before.rpc_served);
    expect_echo_answered_next();
}

TEST_F(rpc_input, call_fails_as_peer_lost_at_once_when_its_peer_leaves) {
    // Here the node calls the fake, which never answers but says LEAVE.
    auto f = server_->call_peer(fake_id_, "slow", 1, 10s);
    const auto frame = next_of_type(protocol::request_type, 3s);
    ASSERT_TRUE(frame) << "the request never reached the fake";
    const auto m = protocol::decode_request(*frame);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->header.method, "slow");
    EXPECT_GT(m->header.timeout_ms, 5000u);
    EXPECT_LE(m->header.timeout_ms, 10000u);
    EXPECT_EQ(bytes(m->body.begin(), m->body.end()), bytes{0x01});

    const auto t0 = steady_clock::now();
    send({protocol::encode_control(fake_.leave())});
    ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
    EXPECT_LT(steady_clock::now() - t0, 2s);
    try {
        f.get();
        ADD_FAILURE() << "the call succeeded";
    } catch (const rpc_error& e) {
        EXPECT_EQ(e.kind(), rpc_errc::peer_lost) << e.what();
    }
    EXPECT_EQ(server_->stats().rpc_peer_lost, 1u);
}

// A peer whose handshake with the server is half done: the server dialled it (from its
// beacon) and sent HELLO, the peer has not answered yet.
class rpc_handshake : public rpc_input {
protected:
    void SetUp() override {
        start_server_and_fake();
        discovery::beacon_socket sender(beacon_port_, {{"lo", "127.0.0.1", true, true, true}});
        protocol::beacon b{mesh_, fake_id_, "fake", "127.0.0.1",
                           protocol::parse_tcp_endpoint(fake_.pub_endpoint())->port,
                           protocol::parse_tcp_endpoint(fake_.router_endpoint())->port};
        sender.send(protocol::encode_beacon(b));
        const auto first = next_hello();
        ASSERT_TRUE(first) << "the server did not dial the fake";
        EXPECT_EQ(first->services, names{"echo"});
    }
};

TEST_F(rpc_handshake, method_served_before_the_peer_answers_hello_reaches_that_peer) {
    server_->serve("late", [](const request&) -> response { return 0; });
    (void)server_->stats();   // commands from one thread run in order: serve() is done
    fake_.say_hello(mesh_);
    ASSERT_TRUE(wait_until([&] { return joined_names(*server_) == names{"fake"}; }, 3s));
    // The fake already holds the server's first HELLO: it needs a fresh one.
    std::optional<protocol::hello> latest;
    while (auto h = next_hello(1s)) latest = h;
    ASSERT_TRUE(latest) << "no HELLO after serve(): the fake still thinks only echo is served";
    EXPECT_EQ(latest->services, (names{"echo", "late"}));
}

TEST_F(rpc_handshake, node_that_stops_mid_handshake_still_sends_leave) {
    // The fake may already count the server as joined (it has the server's HELLO): only a
    // LEAVE tells it at once that the server is gone.
    server_->stop();
    EXPECT_TRUE(fake_.wait_control(protocol::msg_type::leave, 3s));
}

TEST_F(rpc_handshake, leave_from_a_peer_mid_handshake_ends_that_handshake) {
    ASSERT_EQ(server_->peers().size(), 1u);
    const auto unknown_before = server_->stats().frames_unknown_sender;
    send({protocol::encode_control(fake_.leave())});
    EXPECT_TRUE(wait_until([&] { return server_->peers().empty(); }, 3s))
        << "the server still dials a peer that said it is leaving";
    EXPECT_EQ(server_->stats().frames_unknown_sender, unknown_before);
    EXPECT_EQ(events(*server_).count(peer_event_kind::left, "fake"), 0u)
        << "a peer that never joined cannot leave";
}

}  // namespace
}  // namespace zmesh::test
