// SPDX-License-Identifier: MPL-2.0
// delivery: what the reactor hands over is taken whole and in order, the delivery thread
// waits when there is nothing, and the loop runs handlers in the order things happened
// until the reactor's last delivery.
#include "node/delivery.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;

event event_on(std::string topic) { return event(std::move(topic), {}, "peer", 1, 0, {}, nullptr); }

TEST(delivery_queue, everything_queued_is_taken_at_once_in_order) {
    delivery_queue q;
    q.push(subscription_removed{1});
    q.push(subscription_removed{2});
    q.push(end_of_deliveries{});
    std::vector<delivery> out;
    q.take_all(out);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(std::get<subscription_removed>(out[0]).id, 1u);
    EXPECT_EQ(std::get<subscription_removed>(out[1]).id, 2u);
    EXPECT_TRUE(std::holds_alternative<end_of_deliveries>(out[2]));
}

TEST(delivery_queue, the_taker_waits_until_something_is_queued) {
    delivery_queue q;
    auto taken = std::async(std::launch::async, [&] {
        std::vector<delivery> out;
        q.take_all(out);
        return out.size();
    });
    EXPECT_EQ(taken.wait_for(50ms), std::future_status::timeout) << "nothing to take yet";
    q.push(end_of_deliveries{});
    ASSERT_EQ(taken.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(taken.get(), 1u);
}

TEST(delivery_queue, pushes_from_another_thread_all_arrive_in_order) {
    delivery_queue q;
    constexpr std::uint64_t count = 10000;
    std::jthread reactor([&] {
        for (std::uint64_t i = 0; i < count; ++i) q.push(subscription_removed{i});
    });
    std::vector<delivery> out;
    while (out.size() < count) q.take_all(out);
    ASSERT_EQ(out.size(), count);
    for (std::uint64_t i = 0; i < count; ++i) ASSERT_EQ(std::get<subscription_removed>(out[i]).id, i);
}

TEST(delivery_loop, runs_handlers_in_the_order_things_happened_until_the_last_delivery) {
    auto q = std::make_shared<delivery_queue>();
    auto counters = std::make_shared<shared_counters>();
    std::vector<std::string> seen;
    delivery_loop loop(q, [&](const peer_event&) { seen.push_back("peer"); }, counters);
    q->push(subscription_added{1, "a.", [&](const event& e) { seen.push_back(e.topic()); }});
    event_batch events;
    events.events.push_back(event_on("a.1"));
    events.events.push_back(event_on("b.1"));   // nobody subscribed
    events.events.push_back(event_on("a.2"));
    counters->pending_events += 4;   // as the outbox counts them: these and a.3
    q->push(std::move(events));
    call_batch calls;
    calls.calls.push_back({[&](const call_result&) { seen.push_back("call"); }, call_result(rpc_error(rpc_errc::timeout, "t"))});
    q->push(std::move(calls));
    q->push(peer_event{});
    q->push(subscription_removed{1});
    q->push(event_batch{{event_on("a.3")}});
    q->push(end_of_deliveries{});
    q->push(peer_event{});   // after the last: never run
    loop.run();
    EXPECT_EQ(seen, (std::vector<std::string>{"a.1", "a.2", "call", "peer"}));
    EXPECT_EQ(counters->pending_events.load(), 0) << "each batch handled is counted off";
}

TEST(delivery_loop, a_handler_that_throws_is_counted_and_the_rest_run) {
    auto q = std::make_shared<delivery_queue>();
    auto counters = std::make_shared<shared_counters>();
    int ran = 0;
    delivery_loop loop(q, nullptr, counters);
    call_batch calls;
    calls.calls.push_back({[](const call_result&) { throw std::runtime_error("bug"); }, call_result(rpc_error(rpc_errc::timeout, "t"))});
    calls.calls.push_back({[&](const call_result&) { ++ran; }, call_result(rpc_error(rpc_errc::timeout, "t"))});
    q->push(std::move(calls));
    q->push(end_of_deliveries{});
    loop.run();
    EXPECT_EQ(ran, 1);
    EXPECT_EQ(counters->handler_errors.load(), 1u);
}

}  // namespace
}  // namespace zmesh::detail
