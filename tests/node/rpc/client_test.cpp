// SPDX-License-Identifier: MPL-2.0
// rpc_client, without sockets: a call goes to the joined provider with the fewest calls
// pending; a call that cannot go fails after the code that made it, never inside it; a
// reply, a timeout or its peer leaving ends it, once.
#include "node/rpc/client.hpp"

#include "node/rpc/workers.hpp"
#include "protocol/rpc.hpp"
#include "support/rpc_frames.hpp"

#include <gtest/gtest.h>

#include <map>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;
using clock = rpc_client::clock;

class fake_host : public peer_port {
public:
    bool accept = true;
    std::map<protocol::node_id, int> sent;   // requests on each peer's link
    std::uint64_t last_id = 0;               // the id of the last request sent
    bool send_on_link(const protocol::node_id& peer, zmq::message_t& frame) override {
        if (!accept) return false;
        ++sent[peer];
        last_id = protocol::decode_request(std::span(frame.data<std::uint8_t>(), frame.size()))->header.id;
        return true;
    }
    void peer_called(const protocol::node_id&) override {}
    void send_to_peer(const protocol::node_id&, const protocol::control&) override {}
    void peer_alive(const protocol::node_id&, clock::time_point) override {}
};

class rpc_client_test : public ::testing::Test {
protected:
    options opts_;
    protocol::node_id self_ = protocol::node_id::random();
    node_stats stats_;
    node_context ctx_{opts_, self_, stats_};
    shared_counters counters_;
    std::vector<delivery> delivered_;
    outbox out_{[this](delivery&& d) { delivered_.push_back(std::move(d)); }, counters_};
    discovery::peer_table table_;
    fake_host host_;
    zmq::context_t net_;
    security security_{ctx_, net_};
    wait_set waits_;
    call_links links_{ctx_, net_, security_, waits_};
    rpc_client client_{ctx_, counters_, out_, table_, host_, links_};
    const clock::time_point t0 = clock::now();

    // A joined peer serving `methods` (no call links: every call goes on its link).
    protocol::node_id provider(const std::string& name, std::vector<std::string> methods) {
        const auto id = protocol::node_id::random();
        auto& p = table_.add(id, name, "tcp://h:1", "tcp://h:2", t0, 7);
        protocol::hello h{"m", id, name, "tcp://h:1", "tcp://h:2", 0, std::move(methods)};
        table_.on_hello(p, h, t0);
        return id;
    }
    // Calls `method` (of `peer`, when given). Returns: its future.
    std::future<reply> call(const std::string& method, std::optional<protocol::node_id> peer = {},
                            std::chrono::milliseconds timeout = 1s) {
        // As node::call builds it: id 0, for the client to encode over.
        const auto frame = test::encoded_request({0, method, 1000}, std::vector<std::uint8_t>{0xc0});
        call_command c{peer, zmq::message_t(frame.data(), frame.size()), timeout, std::promise<reply>(),
                       run_on::handler_thread};
        auto f = std::get<std::promise<reply>>(c.done).get_future();
        client_.call(std::move(c), t0);
        return f;
    }
    static rpc_errc kind_of(std::future<reply>& f) {
        try {
            f.get();
        } catch (const rpc_error& e) {
            return e.kind();
        }
        return rpc_errc::invalid;
    }
};

TEST_F(rpc_client_test, call_with_no_provider_fails_after_the_calling_code_not_inside_it) {
    auto f = call("nobody.serves.this");
    EXPECT_EQ(f.wait_for(0s), std::future_status::timeout) << "failed inside the call";
    EXPECT_TRUE(client_.has_failed());
    client_.complete_failed();
    EXPECT_EQ(kind_of(f), rpc_errc::no_provider);
    EXPECT_EQ(stats_.rpc_no_provider, 1u);
}

TEST_F(rpc_client_test, calls_go_to_the_provider_with_the_fewest_pending) {
    const auto a = provider("a", {"work"});
    const auto b = provider("b", {"work"});
    provider("c", {"other"});
    std::vector<std::future<reply>> pending;
    for (int i = 0; i < 6; ++i) pending.push_back(call("work"));
    EXPECT_EQ(host_.sent[a], 3);
    EXPECT_EQ(host_.sent[b], 3);
    EXPECT_FALSE(client_.has_failed());
}

TEST_F(rpc_client_test, a_full_link_fails_the_call_as_peer_lost) {
    provider("a", {"work"});
    host_.accept = false;
    auto f = call("work");
    client_.complete_failed();
    EXPECT_EQ(kind_of(f), rpc_errc::peer_lost);
    EXPECT_EQ(stats_.sends_dropped, 1u);
}

TEST_F(rpc_client_test, calls_fail_at_their_deadline_or_when_their_peer_leaves) {
    const auto a = provider("a", {"work"});
    auto slow = call("work", std::nullopt, 100ms);
    auto lost = call("work", a, 10s);
    EXPECT_EQ(client_.next_deadline(), t0 + 100ms);
    client_.expire(t0 + 99ms);
    EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout);
    client_.expire(t0 + 100ms);
    EXPECT_EQ(kind_of(slow), rpc_errc::timeout);
    client_.peer_left(a, "a left (expired)");
    EXPECT_EQ(kind_of(lost), rpc_errc::peer_lost);
    EXPECT_EQ(stats_.rpc_timeouts, 1u);
    EXPECT_EQ(stats_.rpc_peer_lost, 1u);
    client_.expire(t0 + 1h);   // nothing left to fail twice
    EXPECT_EQ(stats_.rpc_timeouts, 1u);
}

TEST_F(rpc_client_test, a_reply_completes_its_call_once_and_a_stray_one_is_counted) {
    const auto a = provider("a", {"work"});
    auto f = call("work");
    ASSERT_EQ(host_.sent[a], 1);
    const auto reply_to = [&](const protocol::node_id& peer, std::uint64_t id) {
        const auto frame = test::encoded_reply({id, 0, {}}, std::vector<std::uint8_t>{0x2a});
        zmq::message_t msg(frame.data(), frame.size());
        client_.on_reply(*table_.find(peer), msg, *protocol::decode_reply(std::span(msg.data<std::uint8_t>(), msg.size())));
    };
    const auto id = host_.last_id;
    const auto b = provider("b", {});
    reply_to(b, id);   // the right id from another peer: not an answer to us
    EXPECT_EQ(stats_.rpc_stray_replies, 1u);
    EXPECT_EQ(f.wait_for(0s), std::future_status::timeout);
    reply_to(a, id);
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    EXPECT_EQ(f.get().as<int>(), 42);
    reply_to(a, id);
    EXPECT_EQ(stats_.rpc_stray_replies, 2u) << "a second reply to one call";
    EXPECT_EQ(stats_.rpc_ok, 1u);
}

}  // namespace
}  // namespace zmesh::detail
