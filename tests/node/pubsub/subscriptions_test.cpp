// SPDX-License-Identifier: MPL-2.0
// The application's subscriptions without a socket: prefixes counted across subscriptions,
// a filter set for the first of a prefix and cleared with the last, handlers on the reactor
// kept and run by prefix, the delivery thread's prefixes apart, and which published prefixes
// could carry a topic we take.
#include "node/pubsub/subscriptions.hpp"

#include <gtest/gtest.h>

namespace zmesh::detail {
namespace {

TEST(subscriptions, a_prefix_is_new_with_its_first_subscription_and_gone_with_its_last) {
    subscriptions s;
    EXPECT_FALSE(s.any());
    EXPECT_TRUE(s.add(1, "orders.", run_on::handler_thread));
    EXPECT_FALSE(s.add(2, "orders.", run_on::handler_thread));   // counted, not new
    EXPECT_TRUE(s.add(3, "stock.", run_on::handler_thread));
    EXPECT_EQ(s.prefixes(), (std::vector<std::string>{"orders.", "stock."}));

    auto r = s.remove(1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->prefix, "orders.");
    EXPECT_FALSE(r->last_of_prefix);
    EXPECT_TRUE(s.wants("orders.created"));
    r = s.remove(2);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->last_of_prefix);
    EXPECT_FALSE(s.wants("orders.created"));
    EXPECT_EQ(s.prefixes(), std::vector<std::string>{"stock."});
    EXPECT_FALSE(s.remove(2));   // an id not held, or removed already
    EXPECT_FALSE(s.remove(99));
}

TEST(subscriptions, the_delivery_threads_prefixes_and_the_reactors_handlers_are_told_apart) {
    subscriptions s;
    std::vector<std::string> ran;
    s.add(1, "a.", run_on::reactor, [&](const event& e) { ran.push_back("1:" + e.topic()); });
    s.add(2, "a.b", run_on::reactor, [&](const event& e) { ran.push_back("2:" + e.topic()); });
    s.add(3, "c.", run_on::handler_thread);
    EXPECT_TRUE(s.any_on_reactor());
    EXPECT_TRUE(s.wants("a.x"));
    EXPECT_FALSE(s.wants_on_threads("a.x"));   // only the reactor takes it
    EXPECT_TRUE(s.wants_on_threads("c.x"));

    const auto run = [&](const std::string& topic) {
        const event e(topic, {}, "me", 1, 0, {}, nullptr);
        s.for_reactor_handlers(topic, [&](const event_handler& h) { h(e); });
    };
    run("a.bc");
    run("c.x");   // no reactor handler takes it
    EXPECT_EQ(ran, (std::vector<std::string>{"1:a.bc", "2:a.bc"}));

    const auto r = s.remove(1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->where, run_on::reactor);
    ran.clear();
    run("a.bc");
    EXPECT_EQ(ran, std::vector<std::string>{"2:a.bc"});
    s.remove(2);
    EXPECT_FALSE(s.any_on_reactor());
    EXPECT_FALSE(s.wants("a.bc"));
}

TEST(subscriptions, a_published_prefix_meets_a_subscription_when_some_topic_is_under_both) {
    subscriptions s;
    EXPECT_FALSE(s.meets("orders.")) << "nothing subscribed";
    s.add(1, "orders.eu.", run_on::handler_thread);
    EXPECT_TRUE(s.meets("orders."));           // orders.eu.x is under both
    EXPECT_TRUE(s.meets("orders.eu.paid"));    // a publisher's narrower prefix
    EXPECT_TRUE(s.meets("ord"));
    EXPECT_FALSE(s.meets("orders.us."));
    EXPECT_FALSE(s.meets("stock."));
    s.add(2, "", run_on::handler_thread);        // everything
    EXPECT_TRUE(s.meets("stock."));
}

}  // namespace
}  // namespace zmesh::detail
