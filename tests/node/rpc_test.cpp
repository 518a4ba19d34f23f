// SPDX-License-Identifier: MPL-2.0
// rpc: calls between in-process nodes: results, remote errors, timeouts, lost peers and
// local refusals (which provider a call goes to: rpc_providers_test.cpp).
#include "rpc_fixture.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>

namespace zmesh::test {
namespace {

using std::chrono::steady_clock;

struct order {
    std::string sku;
    int quantity = 0;
    std::vector<double> prices;
    std::map<std::string, std::string> notes;
    MSGPACK_DEFINE(sku, quantity, prices, notes)
    bool operator==(const order&) const = default;
};

TEST_F(rpc, echo_returns_the_arguments_and_both_ends_know_who_is_who) {
    struct seen_request {
        node_id caller;
        std::string caller_name, method;
        steady_clock::time_point deadline;
    };
    std::mutex mutex;
    std::optional<seen_request> seen;
    auto& server = start_server("server", {{"echo", [&](const request& r) -> response {
        std::lock_guard lock(mutex);
        seen = seen_request{r.caller(), r.caller_name(), r.method(), r.deadline()};
        return r;   // the payload, passed on as it is
    }}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "echo"));

    const order sent{"sku-42", 3, {9.99, 0.5}, {{"gift", "yes"}, {"note", std::string(300, 'n')}}};
    const auto t0 = steady_clock::now();
    auto f = client.call("echo", sent, 2s);
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    const auto t1 = steady_clock::now();
    const reply r = f.get();
    EXPECT_EQ(r.as<order>(), sent);
    EXPECT_EQ(r.from(), server.id());
    EXPECT_EQ(r.from_name(), "server");

    std::lock_guard lock(mutex);
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->caller, client.id());
    EXPECT_EQ(seen->caller_name, "client");
    EXPECT_EQ(seen->method, "echo");
    // The server's clock: arrival + the 2 s the caller still waits.
    EXPECT_GE(seen->deadline, t0 + 2s);
    EXPECT_LE(seen->deadline, t1 + 2s);
    EXPECT_EQ(client.stats().rpc_ok, 1u);
    EXPECT_EQ(server.stats().rpc_served, 1u);
}

TEST_F(rpc, ten_thousand_concurrent_calls_are_all_answered_with_their_own_results) {
    auto& server = start_server("server", {{"double", doubler()}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "double"));

    constexpr int calls = 10'000;
    std::vector<std::future<reply>> futures;
    futures.reserve(calls);
    for (int i = 0; i < calls; ++i) futures.push_back(client.call("double", i, 60s));
    int right = 0;
    for (int i = 0; i < calls; ++i)
        if (result_of<int>(std::move(futures[i]), 60s) == i * 2) ++right;
    EXPECT_EQ(right, calls);
    EXPECT_EQ(client.stats().rpc_ok, static_cast<std::uint64_t>(calls));
}

TEST_F(rpc, callbacks_receive_every_result_on_the_delivery_thread) {
    auto& server = start_server("server", {{"double", doubler()}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "double"));

    constexpr int calls = 300;
    std::atomic<int> right{0}, wrong{0}, on_caller_thread{0};
    const auto test_thread = std::this_thread::get_id();
    for (int i = 0; i < calls; ++i)
        client.call("double", i, 30s, [&, i](const call_result& r) {
            if (std::this_thread::get_id() == test_thread) ++on_caller_thread;
            ++(r.ok() && r.value().as<int>() == i * 2 ? right : wrong);
        });
    EXPECT_TRUE(wait_until([&] { return right + wrong == calls; }, 30s)) << right << " + " << wrong;
    EXPECT_EQ(right, calls);
    EXPECT_EQ(on_caller_thread, 0);
}

TEST_F(rpc, remote_errors_come_back_with_their_code_and_message) {
    auto& server = start_server("server", {
        {"reserve", [](const request&) -> response { return rpc_error(409, "out of stock"); }},
        {"explode", [](const request&) -> response { throw std::runtime_error("boom"); }},
    });
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "explode"));

    const auto out_of_stock = failure_of(client.call("reserve", order{}, 2s));
    EXPECT_EQ(out_of_stock.kind(), rpc_errc::remote);
    EXPECT_EQ(out_of_stock.code(), 409);
    EXPECT_STREQ(out_of_stock.what(), "out of stock");

    const auto boom = failure_of(client.call("explode", 1, 2s));
    EXPECT_EQ(boom.kind(), rpc_errc::remote);
    EXPECT_EQ(boom.code(), -32603);
    EXPECT_STREQ(boom.what(), "internal error");   // the text only with options::rpc_expose_errors

    const auto missing = failure_of(client.call_peer(server.id(), "no.such.method", 1, 2s));
    EXPECT_EQ(missing.kind(), rpc_errc::remote);
    EXPECT_EQ(missing.code(), -32601);
    EXPECT_EQ(client.stats().rpc_remote_errors, 3u);
    EXPECT_EQ(server.stats().rpc_unknown_method, 1u);
}

TEST_F(rpc, call_fails_as_peer_lost_at_once_when_its_server_stops) {
    // The same failure without a handler running is checked with a fake peer that sends
    // LEAVE (rpc_input.call_fails_as_peer_lost_at_once_when_its_peer_leaves).
    auto& server = start_server("server", {{"slow", blocked()}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "slow"));
    auto f = client.call("slow", 1, 10s);
    ASSERT_TRUE(wait_until([&] { return gate_.entered() == 1; }, 5s));

    // stop() sends LEAVE, then waits for the handler: stop from another thread, and let
    // the handler go once the caller has its answer.
    const auto t0 = steady_clock::now();
    std::thread stopper([&] { server.stop(); });
    const auto status = f.wait_for(2s);
    const auto waited = steady_clock::now() - t0;
    gate_.open();
    stopper.join();
    ASSERT_EQ(status, std::future_status::ready) << "no answer 2 s after the server stopped";
    EXPECT_LT(waited, 2s);
    EXPECT_EQ(failure_of(std::move(f)).kind(), rpc_errc::peer_lost);
    EXPECT_EQ(client.stats().rpc_peer_lost, 1u);
}

TEST_F(rpc, slow_handler_times_the_call_out_and_its_late_reply_is_counted_stray) {
    auto& server = start_server("server", {{"slow", blocked()}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "slow"));

    const auto t0 = steady_clock::now();
    auto f = client.call("slow", 1, 300ms);
    ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
    const auto waited = steady_clock::now() - t0;
    EXPECT_EQ(failure_of(std::move(f)).kind(), rpc_errc::timeout);
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 2s);
    EXPECT_EQ(client.stats().rpc_timeouts, 1u);

    gate_.open();   // the handler answers now, too late
    EXPECT_TRUE(wait_until([&] { return client.stats().rpc_stray_replies == 1; }, 3s));
    EXPECT_EQ(client.stats().rpc_ok, 0u);
}

TEST_F(rpc, slow_handler_holds_up_neither_heartbeats_nor_other_calls) {
    auto o = make_options("server");
    o.rpc_workers = 2;
    auto& server = start_server(o, {{"slow", blocked()}, {"double", doubler()}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "double"));

    auto slow = client.call("slow", 0, 30s);
    ASSERT_TRUE(wait_until([&] { return gate_.entered() == 1; }, 5s));
    // Keep one worker busy for longer than the evasive timeout (1 s) while the other answers.
    const auto until = steady_clock::now() + 2s;
    int answered = 0;
    for (int i = 0; steady_clock::now() < until; ++i) {
        if (result_of<int>(client.call("double", i, 1s), 2s) == i * 2) ++answered;
    }
    gate_.open();
    EXPECT_EQ(result_of<int>(std::move(slow)), 0);
    EXPECT_GE(answered, 10);
    for (const auto* n : {&server, &client})
        for (const auto& e : events(*n).all())
            EXPECT_EQ(e.kind, peer_event_kind::joined)
                << n->name() << " saw " << to_string(e.kind) << " of " << e.peer.name;
}

TEST_F(rpc, serve_and_unserve_after_start_update_what_peers_see) {
    auto& server = start("server");
    auto& client = start("client");
    // Both ends joined: serve() during the handshake is another matter (see rpc_input_test).
    ASSERT_TRUE(sees_method(client, server, "late", false));
    ASSERT_TRUE(sees_method(server, client, "late", false));

    server.serve("late", doubler());
    ASSERT_TRUE(sees_method(client, server, "late"));
    EXPECT_EQ(result_of<int>(client.call("late", 21, 2s)), 42);

    server.unserve("late");
    ASSERT_TRUE(sees_method(client, server, "late", false));
    EXPECT_EQ(failure_of(client.call("late", 21, 2s)).kind(), rpc_errc::no_provider);

    // Served before start: advertised in the first HELLO.
    auto& early = start_server("early", {{"early.method", doubler()}});
    ASSERT_TRUE(sees_method(client, early, "early.method"));
    EXPECT_EQ(result_of<int>(client.call("early.method", 5, 2s)), 10);
}

TEST_F(rpc, calls_on_a_node_that_is_not_running_fail_as_stopped) {
    node idle(make_options("idle"));
    EXPECT_EQ(failure_of(idle.call("echo", 1, 1s), 0ms).kind(), rpc_errc::stopped);
    // The callback form answers at once, on the calling thread.
    std::optional<rpc_errc> refused;
    idle.call("echo", 1, 1s, [&](const call_result& r) { refused = r.error().kind(); });
    EXPECT_EQ(refused, rpc_errc::stopped);

    auto& server = start_server("server", {{"slow", blocked()}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "slow"));
    auto pending = client.call("slow", 1, 30s);
    ASSERT_TRUE(wait_until([&] { return gate_.entered() == 1; }, 5s));
    client.stop();
    // Failed before stop() returned.
    EXPECT_EQ(failure_of(std::move(pending), 0ms).kind(), rpc_errc::stopped);
    EXPECT_EQ(failure_of(client.call("slow", 1, 1s), 0ms).kind(), rpc_errc::stopped);

    // The server's late answer finds nobody to go to.
    ASSERT_TRUE(wait_until(
        [&] { return events(server).count(peer_event_kind::left, "client") == 1; }, 3s));
    gate_.open();
    EXPECT_TRUE(wait_until([&] { return server.stats().rpc_replies_dropped == 1; }, 3s));
}

TEST_F(rpc, empty_method_or_oversized_arguments_are_refused_as_invalid) {
    auto o = make_options("client");
    o.max_rpc_size = 100;
    auto& client = start(o);
    EXPECT_EQ(failure_of(client.call("", 1, 1s), 0ms).kind(), rpc_errc::invalid);
    EXPECT_EQ(failure_of(client.call(std::string(129, 'm'), 1, 1s), 0ms).kind(), rpc_errc::invalid);
    EXPECT_EQ(failure_of(client.call("echo", std::string(200, 'x'), 1s), 0ms).kind(),
              rpc_errc::invalid);   // over max_rpc_size
    EXPECT_EQ(failure_of(client.call_packed({}, "echo", {0xc1}, 1s), 0ms).kind(),
              rpc_errc::invalid);   // not msgpack
    // A callback that cannot be called is the caller's bug: thrown at once, in every form.
    EXPECT_THROW(client.call("echo", 1, 1s, call_callback{}), std::invalid_argument);
    EXPECT_THROW(client.call_packed({}, "echo", {0x01}, 1s, call_callback{}), std::invalid_argument);
    EXPECT_EQ(client.stats().rpc_calls, 0u);   // never reached the reactor
}

}  // namespace
}  // namespace zmesh::test
