// SPDX-License-Identifier: MPL-2.0
// handler_errors: what handlers and callbacks throw is logged at warn, a line a second at
// most, with the count of those not logged; and counted as before.
#include "node/handler_errors.hpp"

#include "node_fixture.hpp"

#include <future>

namespace zmesh::test {
namespace {

TEST(handler_error_log, logs_the_first_failure_then_one_line_a_second_with_the_count_not_logged) {
    log_capture captured;
    detail::handler_error_log errors;
    errors.set(logger("n", log_level::warn, captured.sink()));
    errors.report("an event handler", "first");
    errors.report("an event handler", "second");
    errors.report("a call callback", "third");
    EXPECT_EQ(captured.find(log_level::warn, "threw").size(), 1u);
    EXPECT_EQ(captured.find(log_level::warn, "an event handler threw: first").size(), 1u);
    std::this_thread::sleep_for(1100ms);
    errors.report("a stream handler", "fourth");
    const auto lines = captured.find(log_level::warn, "threw");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[1].find("a stream handler threw: fourth"), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find("2 more"), std::string::npos) << lines[1];
}

TEST(handler_error_log, logs_nothing_below_warn_or_without_a_log) {
    log_capture captured;
    detail::handler_error_log unset;
    unset.report("an event handler", "lost");
    detail::handler_error_log quiet;
    quiet.set(logger("n", log_level::error, captured.sink()));
    quiet.report("an event handler", "lost");
    EXPECT_TRUE(captured.find(log_level::warn, "threw").empty());
}

TEST_F(node_fixture, a_throwing_event_handler_is_logged_at_warn_and_counted) {
    log_capture captured;
    node n(logged_options("thrower", captured));
    n.subscribe("t", [](const event&) { throw std::runtime_error("bad order 17"); });
    n.start();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(n.publish("t", i));
    EXPECT_TRUE(wait_until([&] { return n.stats().handler_errors == 5; }, 5s));
    const auto lines = captured.find(log_level::warn, "an event handler threw: bad order 17");
    EXPECT_EQ(lines.size(), 1u);   // the other four within the second: not logged
    n.stop();
}

TEST_F(node_fixture, a_throwing_peer_event_handler_is_logged_and_counted) {
    log_capture captured;
    node n(logged_options("thrower", captured));
    n.on_peer_event([](const peer_event&) { throw std::logic_error("peer handler bug"); });
    n.start();
    start("other");
    EXPECT_TRUE(wait_until([&] { return !captured.find(log_level::warn, "a peer event handler threw: peer handler bug").empty(); }, 5s));
    EXPECT_GE(n.stats().handler_errors, 1u);
    n.stop();
}

}  // namespace
}  // namespace zmesh::test
