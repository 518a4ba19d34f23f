// SPDX-License-Identifier: MPL-2.0
// waits: node::wait_for_peers, wait_for_provider and wait_for_subscribers, each true once
// the mesh is as asked, false after its timeout, refused from the node's own threads.
#include "rpc_fixture.hpp"

#include <atomic>
#include <future>

namespace zmesh::test {
namespace {

using clock = std::chrono::steady_clock;

TEST_F(rpc, call_right_after_start_succeeds_after_wait_for_provider) {
    start_server("server", {{"double", doubler()}});
    auto& client = start("client");
    ASSERT_TRUE(client.wait_for_provider("double", 5s));
    EXPECT_EQ(result_of<int>(client.call("double", 21, 2s)), 42);
}

TEST_F(node_fixture, publish_after_wait_for_subscribers_is_received) {
    std::promise<int> got;
    auto received = got.get_future();
    node subscriber(make_options("subscriber"));
    subscriber.subscribe("orders.", [&](const event& e) { got.set_value(e.as<int>()); });
    subscriber.start();
    auto& publisher = start("publisher");
    ASSERT_TRUE(publisher.wait_for_subscribers("orders.created", 1, 5s));
    ASSERT_TRUE(publisher.publish("orders.created", 7));
    ASSERT_EQ(received.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(received.get(), 7);
    subscriber.stop();
}

TEST_F(node_fixture, wait_for_subscribers_counts_only_members_whose_prefixes_cover_the_topic) {
    node other(make_options("other"));
    other.subscribe("invoices.", [](const event&) {});
    other.start();
    auto& publisher = start("publisher");
    ASSERT_TRUE(publisher.wait_for_peers(1, 5s));
    const auto started = clock::now();
    EXPECT_FALSE(publisher.wait_for_subscribers("orders.created", 1, 300ms));
    EXPECT_GE(clock::now() - started, 300ms);
    EXPECT_TRUE(publisher.wait_for_subscribers("invoices.paid", 1, 5s));
    other.stop();
}

TEST_F(node_fixture, wait_for_peers_counts_members_not_observers) {
    auto& a = start("a");
    auto watcher_options = make_options("watcher");
    watcher_options.observer = true;
    start(watcher_options);
    EXPECT_FALSE(a.wait_for_peers(1, 500ms));
    start("b");
    EXPECT_TRUE(a.wait_for_peers(1, 5s));
    EXPECT_FALSE(a.wait_for_peers(2, 200ms));
}

TEST_F(node_fixture, waits_return_false_in_about_their_timeout) {
    auto& lonely = start("lonely");
    for (const auto timeout : {0ms, 100ms, 400ms}) {
        const auto started = clock::now();
        EXPECT_FALSE(lonely.wait_for_provider("nobody.serves", timeout));
        EXPECT_FALSE(lonely.wait_for_peers(1, timeout));
        EXPECT_FALSE(lonely.wait_for_subscribers("t", 1, timeout));
        const auto took = clock::now() - started;
        EXPECT_GE(took, 3 * timeout);
        EXPECT_LT(took, 3 * timeout + 300ms) << "timeout " << timeout.count() << " ms";
    }
}

TEST_F(node_fixture, waits_of_a_node_not_running_are_false_at_once) {
    node idle(make_options("idle"));
    const auto started = clock::now();
    EXPECT_FALSE(idle.wait_for_peers(1, 5s));
    EXPECT_FALSE(idle.wait_for_provider("m", 5s));
    EXPECT_FALSE(idle.wait_for_subscribers("t", 1, 5s));
    EXPECT_LT(clock::now() - started, 100ms);
}

TEST_F(node_fixture, a_wait_ends_false_when_its_node_stops) {
    auto& n = start("stopping");
    auto waiting = std::async(std::launch::async, [&] {
        const auto started = clock::now();
        const bool reached = n.wait_for_peers(1, 10s);
        return std::pair(reached, clock::now() - started);
    });
    std::this_thread::sleep_for(100ms);   // let it wait (a wait begun after stop is false too)
    n.stop();
    ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
    const auto [reached, took] = waiting.get();
    EXPECT_FALSE(reached);
    EXPECT_LT(took, 5s);
}

TEST_F(rpc, waits_from_the_nodes_own_threads_throw_logic_error) {
    std::atomic<int> refused{0};
    const auto try_wait = [&](const node& n) {
        try {
            n.wait_for_peers(1, 10s);
        } catch (const std::logic_error&) {
            ++refused;
        }
    };
    node* self = nullptr;
    node n(make_options("self"));
    n.subscribe("t", [&](const event&) { try_wait(*self); });   // the delivery thread
    n.subscribe("t", [&](const event&) { try_wait(*self); }, run_on::reactor);
    self = &n;
    n.start();
    ASSERT_TRUE(n.publish("t", 1));   // delivered to its own subscriptions
    EXPECT_TRUE(wait_until([&] { return refused == 2; }, 5s));
    n.stop();
}

}  // namespace
}  // namespace zmesh::test
