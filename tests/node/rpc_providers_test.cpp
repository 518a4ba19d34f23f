// SPDX-License-Identifier: MPL-2.0
// rpc providers: which peer a call without a named peer goes to, as providers come, go,
// fill up with calls, or serve nothing.
#include "rpc_fixture.hpp"

#include <atomic>

namespace zmesh::test {
namespace {

TEST_F(rpc, calls_are_spread_over_every_provider) {
    std::atomic<int> on_a{0}, on_b{0};
    auto& a = start_server("a", {{"work", [&](const request&) -> response { return ++on_a; }}});
    auto& b = start_server("b", {{"work", [&](const request&) -> response { return ++on_b; }}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, a, "work"));
    ASSERT_TRUE(sees_method(client, b, "work"));

    constexpr int calls = 200;
    for (int i = 0; i < calls; ++i) result_of<int>(client.call("work", i, 5s));
    EXPECT_EQ(on_a + on_b, calls);
    EXPECT_GE(on_a, calls * 3 / 10) << on_a << " on a, " << on_b << " on b";
    EXPECT_GE(on_b, calls * 3 / 10) << on_a << " on a, " << on_b << " on b";
}

TEST_F(rpc, new_calls_go_to_the_provider_with_fewer_calls_outstanding) {
    std::atomic<int> on_b{0};
    auto& a = start_server("a", {{"work", blocked()}});
    auto& b = start_server("b", {{"work", [&](const request&) -> response { return ++on_b; }}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, a, "work"));
    ASSERT_TRUE(sees_method(client, b, "work"));

    auto stuck = client.call_peer(a.id(), "work", 0, 30s);
    ASSERT_TRUE(wait_until([&] { return gate_.entered() == 1; }, 5s));
    for (int i = 0; i < 20; ++i)   // b's count: every call reached b
        EXPECT_EQ(result_of<int>(client.call("work", i, 2s)), i + 1);
    EXPECT_EQ(gate_.entered(), 1);   // a got nothing more
    gate_.open();
    EXPECT_EQ(result_of<int>(std::move(stuck)), 0);
}

TEST_F(rpc, method_nobody_serves_fails_as_no_provider_at_once) {
    auto& other = start_server("other", {{"echo", [](const request& r) -> response { return r; }}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, other, "echo"));
    auto f = client.call("nobody.serves.this", 1, 5s);
    ASSERT_EQ(f.wait_for(100ms), std::future_status::ready);
    EXPECT_EQ(failure_of(std::move(f)).kind(), rpc_errc::no_provider);
    EXPECT_EQ(client.stats().rpc_no_provider, 1u);
}

// The reactor keeps each method's providers between calls: they must follow the table.
TEST_F(rpc, calls_follow_providers_as_they_leave_and_join) {
    std::atomic<int> on_a{0}, on_b{0}, on_c{0};
    const auto counting = [](std::atomic<int>& on) {
        return [&on](const request&) -> response { return ++on; };
    };
    auto& a = start_server("a", {{"work", counting(on_a)}});
    auto& b = start_server("b", {{"work", counting(on_b)}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, a, "work"));
    ASSERT_TRUE(sees_method(client, b, "work"));
    for (int i = 0; i < 20; ++i) result_of<int>(client.call("work", i, 5s));
    EXPECT_GT(on_a, 0);
    EXPECT_GT(on_b, 0);
    const auto gone = [&](const node& n) {
        const auto id = n.id();
        return wait_until([&] {
            const auto peers = client.peers();
            return std::none_of(peers.begin(), peers.end(), [&](const auto& p) { return p.id == id; });
        }, 5s);
    };

    a.stop();   // every call goes to b, and none fails
    ASSERT_TRUE(gone(a));
    const int on_b_before = on_b;
    for (int i = 0; i < 20; ++i) result_of<int>(client.call("work", i, 5s));
    EXPECT_EQ(on_b - on_b_before, 20);

    auto& c = start_server("c", {{"work", counting(on_c)}});   // a newcomer gets its share
    ASSERT_TRUE(sees_method(client, c, "work"));
    for (int i = 0; i < 40; ++i) result_of<int>(client.call("work", i, 5s));
    EXPECT_GE(on_c, 12) << on_b << " on b, " << on_c << " on c";

    b.stop();
    c.stop();
    ASSERT_TRUE(gone(b));
    ASSERT_TRUE(gone(c));
    EXPECT_EQ(failure_of(client.call("work", 1, 5s), 1s).kind(), rpc_errc::no_provider);
}

// Calls read their method back from the request frame: every length of it (a str 8 from 32
// bytes), and timeouts past 2^32 ms (the header's longer form).
TEST_F(rpc, methods_of_every_length_find_their_provider) {
    const std::string longest(max_service_len, 'm'), str8(32, 's'), fix(31, 'f');
    auto& server = start_server("server", {{longest, doubler()}, {str8, doubler()}, {fix, doubler()}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, longest));
    for (const auto* method : {&longest, &str8, &fix}) {
        EXPECT_EQ(result_of<int>(client.call(*method, 21, 2s)), 42) << method->size();
        EXPECT_EQ(result_of<int>(client.call(*method, 4, std::chrono::hours(24 * 60))), 8);
    }
}

}  // namespace
}  // namespace zmesh::test
