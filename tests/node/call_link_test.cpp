// SPDX-License-Identifier: MPL-2.0
// call links: a caller sends its REQUESTs on a DEALER of its own to each peer whose HELLO
// says it takes them (routing id: the caller's id, then 'C'), and gets the REPLYs back on
// it; to a peer without the flag (an older node) they go through the dialler as before. As
// a server, a node answers on the call link a REQUEST came by and drops anything else
// that comes on one.
#include "fake_peer.hpp"
#include "node_fixture.hpp"

#include "protocol/control.hpp"
#include "protocol/rpc.hpp"
#include "support/rpc_frames.hpp"

#include <optional>
#include <utility>

namespace zmesh::test {
namespace {

using bytes = std::vector<std::uint8_t>;
using std::chrono::steady_clock;

const bytes nil = {0xc0};
const bytes echo_body = {0x92, 0x01, 0xa1, 'z'};   // [1, "z"]

// `token`: the one the caller gave the callee (0: none).
bytes routing_of(const protocol::node_id& id, bool call_link, std::uint64_t token = 0) {
    std::array<std::uint8_t, protocol::max_routing_id_size> out;
    const auto r = protocol::routing_id_of({id, call_link, token}, out);
    return bytes(r.begin(), r.end());
}
bytes call_link_routing(const protocol::node_id& id, std::uint64_t token = 0) {
    return routing_of(id, true, token);
}

class call_links : public node_fixture {
protected:
    fake_peer fake_;
    node* node_ = nullptr;

    // Starts the node (serving "echo" on its workers) and joins the fake to it, its HELLO
    // with `flags`.
    void join(std::uint8_t flags) {
        node_ = &start(options_with_fakes("node"));
        node_->serve("echo", [](const request& r) -> response { return r; });
        fake_.connect(*node_);
        fake_.say_hello(mesh_, {"fake.work"}, flags);
        ASSERT_TRUE(wait_until([&] { return joined_names(*node_) == std::vector<std::string>{"fake"}; }, 5s));
    }

    // Returns: the routing id and the frame of the next REQUEST the node sent the fake;
    // nothing within 3 s.
    std::optional<std::pair<bytes, bytes>> next_request() {
        const auto deadline = steady_clock::now() + 3s;
        while (steady_clock::now() < deadline) {
            auto frames = fake_.next_at_router(
                std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()));
            if (frames.size() == 2 && frames[1].size() >= 2 && frames[1][1] == protocol::request_type)
                return std::pair(std::move(frames[0]), std::move(frames[1]));
        }
        return std::nullopt;
    }

    // Calls the fake, which answers on the connection the REQUEST came by. Returns: that
    // connection's routing id.
    bytes call_the_fake_and_answer() {
        auto f = node_->call_peer(fake_.id, "fake.work", 1, 5s);
        const auto request = next_request();
        if (!request) throw std::runtime_error("the request never reached the fake");
        const auto m = protocol::decode_request(request->second);
        if (!m) throw std::runtime_error("the node sent a malformed request");
        fake_.send_at_router(request->first, {encoded_reply({m->header.id, 0, {}}, bytes{0x2a})});
        if (f.wait_for(3s) != std::future_status::ready) throw std::runtime_error("no reply in 3 s");
        EXPECT_EQ(f.get().as<int>(), 42);
        return request->first;
    }

    // Returns: a DEALER at the node's ROUTER with the routing id `routing`.
    zmq::socket_t dealer_as(const bytes& routing) {
        zmq::socket_t s(fake_.context(), zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::routing_id, zmq::buffer(routing));
        s.connect(node_->router_endpoint());
        return s;
    }
};

std::vector<bytes> next_on(zmq::socket_t& s) { return fake_peer::next_message(s, 3s); }

// A revision-7 or -8 server answered a handler it ran on its reactor in the REQUEST's own
// frame, the REPLY header stretched to the result by a filler (PROTOCOL.md §10.4): such a
// REPLY completes the call.
TEST_F(call_links, a_reply_written_over_its_request_by_an_older_server_completes_the_call) {
    join(protocol::hello_flag_call_links);
    auto f = node_->call_peer(fake_.id, "fake.work", 7, 5s);
    const auto request = next_request();
    ASSERT_TRUE(request) << "the request never reached the fake";
    const auto m = protocol::decode_request(request->second);
    ASSERT_TRUE(m);
    auto padded = request->second;   // an echo: the result is the arguments, where they lie
    const std::size_t filler = padded.size() - m->body.size() - 14;
    ASSERT_GE(filler, 2u);
    padded[1] = protocol::reply_type;
    padded[2] = 0x94;   // [id, code, message, filler], the id where the request had it
    padded[12] = 0x00;  // code 0
    padded[13] = 0xa0;  // message ""
    padded[14] = 0xc4;  // a bin 8 over the rest of the request's header
    padded[15] = static_cast<std::uint8_t>(filler - 2);
    fake_.send_at_router(request->first, {padded});
    ASSERT_EQ(f.wait_for(3s), std::future_status::ready);
    EXPECT_EQ(f.get().as<int>(), 7);
}

TEST_F(call_links, a_caller_calls_on_a_call_link_a_peer_that_takes_one) {
    join(protocol::hello_flag_call_links);
    const auto routing = call_the_fake_and_answer();
    EXPECT_EQ(routing, call_link_routing(node_->id(), fake_.node_token()));
    EXPECT_NE(fake_.node_token(), 0u);
    EXPECT_EQ(call_the_fake_and_answer(), routing) << "one link, kept";

    // Only one REPLY frame comes on a call link: the rest is dropped, counted.
    const auto before = node_->stats();
    fake_.send_at_router(routing, {protocol::encode_control(protocol::ping{1})});
    fake_.send_at_router(routing, {encoded_request({5, "x", 100}, nil)});
    fake_.send_at_router(routing, {encoded_reply({9, 0, {}}, nil), nil});
    fake_.send_at_router(routing, {encoded_reply({77, 0, {}}, nil)});   // for no call
    EXPECT_TRUE(wait_until([&] {
        const auto s = node_->stats();
        return s.frames_invalid == before.frames_invalid + 3 &&
               s.rpc_stray_replies == before.rpc_stray_replies + 1;
    }, 3s)) << node_->stats().frames_invalid << " " << node_->stats().rpc_stray_replies;
    EXPECT_EQ(call_the_fake_and_answer(), routing) << "and the link still works";
    EXPECT_EQ(node_->stats().rpc_ok, 3u);
}

TEST_F(call_links, a_caller_calls_a_peer_without_the_flag_through_its_link_as_before) {
    join(0);
    const auto routing = call_the_fake_and_answer();
    EXPECT_EQ(routing, routing_of(node_->id(), false, fake_.node_token()));
}

TEST_F(call_links, a_server_answers_on_the_call_link_a_request_came_by) {
    join(0);
    auto link = dealer_as(call_link_routing(fake_.id));
    for (std::uint64_t id : {7u, 8u}) {   // served on a worker: the routing id goes there and back
        fake_peer::send_frames(link, {encoded_request({id, "echo", 5000}, echo_body)});
        const auto frames = next_on(link);
        ASSERT_EQ(frames.size(), 1u) << "no reply on the call link, or more than one frame";
        const auto m = protocol::decode_reply(frames[0]);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->header.id, id);
        EXPECT_EQ(m->header.code, protocol::rpc_ok);
        EXPECT_EQ(bytes(m->body.begin(), m->body.end()), echo_body);
    }
    // An error reply goes the same way.
    fake_peer::send_frames(link, {encoded_request({9, "nobody.serves", 5000}, nil)});
    const auto frames = next_on(link);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(protocol::decode_reply(frames[0])->header.code, protocol::rpc_no_such_method);
}

TEST_F(call_links, a_server_drops_anything_but_requests_on_a_call_link_and_strangers_calls) {
    join(0);
    auto link = dealer_as(call_link_routing(fake_.id));
    auto stranger = dealer_as(call_link_routing(protocol::node_id::random()));
    const auto before = node_->stats();
    fake_peer::send_frames(link, {protocol::encode_control(protocol::ping{1})});
    fake_peer::send_frames(link, {encoded_reply({3, 0, {}}, nil)});
    fake_peer::send_frames(link, {encoded_request({4, "echo", 5000}, nil), nil});
    fake_peer::send_frames(stranger, {encoded_request({5, "echo", 5000}, echo_body)});
    EXPECT_TRUE(wait_until([&] {
        const auto s = node_->stats();
        return s.frames_invalid == before.frames_invalid + 3 &&
               s.frames_unknown_sender == before.frames_unknown_sender + 1;
    }, 3s)) << node_->stats().frames_invalid << " " << node_->stats().frames_unknown_sender;
    EXPECT_EQ(node_->stats().rpc_served, before.rpc_served) << "none of it was served";

    fake_peer::send_frames(link, {encoded_request({6, "echo", 5000}, echo_body)});
    const auto frames = next_on(link);
    ASSERT_EQ(frames.size(), 1u) << "the call link went on working";
    EXPECT_EQ(protocol::decode_reply(frames[0])->header.id, 6u);
}

}  // namespace
}  // namespace zmesh::test
