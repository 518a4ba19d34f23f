// SPDX-License-Identifier: MPL-2.0
// call forms: a call with nil or no arguments, and a call to a member by its name.
#include "rpc_fixture.hpp"

#include <set>

namespace zmesh::test {
namespace {

rpc_handler says_if_nil() {
    return [](const request& r) -> response { return r.object().get().is_nil(); };
}

rpc_handler says_who(const std::string& who) {
    return [who](const request&) -> response { return who; };
}

TEST_F(rpc, a_call_with_nullptr_or_no_arguments_sends_nil) {
    start_server("server", {{"nil?", says_if_nil()}});
    auto& client = start("client");
    ASSERT_TRUE(client.wait_for_provider("nil?", 5s));
    EXPECT_TRUE(result_of<bool>(client.call("nil?", nullptr, 2s)));
    EXPECT_TRUE(result_of<bool>(client.call("nil?", 2s)));
    EXPECT_FALSE(result_of<bool>(client.call("nil?", 0, 2s)));
    EXPECT_TRUE(client.publish("t", nullptr));   // publish takes nullptr as nil too
}

TEST_F(rpc, call_named_reaches_the_member_of_that_name_whether_or_not_it_advertises_the_method) {
    start_server("alpha", {{"who", says_who("alpha")}});
    start_server("beta", {{"who", says_who("beta")}});
    auto& client = start("client");
    ASSERT_TRUE(client.wait_for_peers(2, 5s));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(result_of<std::string>(client.call_named("beta", "who", nullptr, 2s)), "beta");
    const auto unknown_method = failure_of(client.call_named("alpha", "nobody.serves", 1, 2s));
    EXPECT_EQ(unknown_method.kind(), rpc_errc::remote);
    EXPECT_EQ(unknown_method.code(), -32601);
}

TEST_F(rpc, call_named_fails_with_no_provider_naming_a_name_no_member_has) {
    start_server("alpha", {{"who", says_who("alpha")}});
    auto& client = start("client");
    ASSERT_TRUE(client.wait_for_peers(1, 5s));
    const auto missing = failure_of(client.call_named("gamma", "who", 1, 2s), 1s);
    EXPECT_EQ(missing.kind(), rpc_errc::no_provider);
    EXPECT_NE(std::string(missing.what()).find("'gamma'"), std::string::npos) << missing.what();
    EXPECT_EQ(failure_of(client.call_named("", "who", 1, 2s), 1s).kind(), rpc_errc::invalid);
}

TEST_F(rpc, call_named_spreads_calls_over_the_members_that_share_a_name) {
    auto& first = start_server("twin", {{"id", [](const request&) -> response { return 1; }}});
    auto& second = start_server("twin", {{"id", [](const request&) -> response { return 2; }}});
    start_server("other", {{"id", [](const request&) -> response { return 3; }}});
    auto& client = start("client");
    ASSERT_TRUE(client.wait_for_peers(3, 5s));
    ASSERT_NE(first.id(), second.id());
    std::set<int> answered;
    for (int i = 0; i < 10; ++i) answered.insert(result_of<int>(client.call_named("twin", "id", nullptr, 2s)));
    EXPECT_EQ(answered, (std::set<int>{1, 2}));
}

}  // namespace
}  // namespace zmesh::test
