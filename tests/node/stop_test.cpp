// SPDX-License-Identifier: MPL-2.0
// stop: called from one of the node's own threads it would wait for itself, so it fails at
// once with std::logic_error, from the delivery thread, the reactor and an RPC worker alike,
// and the node goes on.
#include "rpc_fixture.hpp"

#include <future>
#include <optional>

namespace zmesh::test {
namespace {

// Returns: the logic_error's text when stop() threw one, or nullopt when it returned.
std::optional<std::string> stop_fails(node& n) {
    try {
        n.stop();
    } catch (const std::logic_error& e) {
        return e.what();
    }
    return std::nullopt;
}

TEST_F(node_fixture, stop_from_an_event_handler_on_either_thread_throws_logic_error) {
    for (const auto where : {run_on::handler_thread, run_on::reactor}) {
        std::promise<std::optional<std::string>> refused;
        auto outcome = refused.get_future();
        node* self = nullptr;
        node n(make_options("self"));
        n.subscribe("t", [&](const event&) { refused.set_value(stop_fails(*self)); }, where);
        self = &n;
        n.start();
        ASSERT_TRUE(n.publish("t", 1));
        ASSERT_EQ(outcome.wait_for(5s), std::future_status::ready);
        const auto why = outcome.get();
        ASSERT_TRUE(why.has_value());
        EXPECT_NE(why->find("own threads"), std::string::npos) << *why;
        EXPECT_TRUE(n.running());
        EXPECT_TRUE(n.publish("t", 2));   // still working
        n.stop();                          // from outside: fine
        EXPECT_FALSE(n.running());
    }
}

TEST_F(node_fixture, stop_from_a_peer_event_handler_throws_logic_error) {
    std::promise<bool> refused;
    auto outcome = refused.get_future();
    node* self = nullptr;
    node n(make_options("self"));
    n.on_peer_event([&](const peer_event& e) {
        if (e.kind == peer_event_kind::joined) refused.set_value(stop_fails(*self).has_value());
    });
    self = &n;
    n.start();
    start("other");
    ASSERT_EQ(outcome.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(outcome.get());
    n.stop();
}

TEST_F(rpc, stop_from_a_served_method_on_a_worker_or_the_reactor_throws_logic_error_and_the_call_is_answered) {
    for (const auto where : {run_on::handler_thread, run_on::reactor}) {
        node* self = nullptr;
        node server(make_options("server"));
        server.serve("shutdown", [&](const request&) -> response {
            const auto why = stop_fails(*self);
            return why ? *why : std::string("stopped");
        }, where);
        self = &server;
        server.start();
        auto& client = start("client");
        ASSERT_TRUE(client.wait_for_provider("shutdown", 5s));
        const auto answer = result_of<std::string>(client.call("shutdown", nullptr, 2s));
        EXPECT_NE(answer.find("own threads"), std::string::npos) << answer;
        EXPECT_TRUE(server.running());
        server.stop();
        nodes_.back()->stop();
        nodes_.pop_back();
        logs_.pop_back();
    }
}

}  // namespace
}  // namespace zmesh::test
