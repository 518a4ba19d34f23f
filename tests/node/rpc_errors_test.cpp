// SPDX-License-Identifier: MPL-2.0
// rpc errors as the caller sees them: arguments of the wrong type are invalid params, a
// handler's exception text stays on the server unless exposed, busy is its own kind.
#include "rpc_fixture.hpp"

namespace zmesh::test {
namespace {

rpc_handler wants_an_int() {
    return [](const request& r) -> response { return r.as<int>() + 1; };
}

TEST_F(rpc, arguments_of_another_type_than_the_handler_decodes_are_invalid_params) {
    for (const auto where : {run_on::handler_thread, run_on::reactor}) {
        node server(make_options("server"));
        server.serve("inc", wants_an_int(), where);
        server.start();
        auto& client = start("client");
        ASSERT_TRUE(client.wait_for_provider("inc", 5s));
        const auto wrong = failure_of(client.call("inc", std::string("twelve"), 2s));
        EXPECT_EQ(wrong.kind(), rpc_errc::remote);
        EXPECT_EQ(wrong.code(), -32602);
        EXPECT_STREQ(wrong.what(), "invalid params: the arguments are not of the type the method takes");
        EXPECT_EQ(result_of<int>(client.call("inc", 1, 2s)), 2);
        server.stop();
        for (auto& n : nodes_) n->stop();
        nodes_.clear();
        logs_.clear();
    }
}

TEST_F(rpc, a_handlers_exception_text_reaches_the_caller_only_with_rpc_expose_errors_and_is_logged_by_the_server) {
    struct expected {
        bool expose;
        const char* failed;
        const char* invalid;
    };
    for (const auto& e : {expected{false, "internal error", "invalid params: the arguments are not of the type the method takes"},
                          expected{true, "db password is hunter2",
                                   "invalid params: payload is not of type int: it is the string \"twelve\""}}) {
        log_capture captured;
        auto o = logged_options(e.expose ? "exposing" : "discreet", captured);
        o.rpc_expose_errors = e.expose;
        start_server(o, {{"explode", [](const request&) -> response { throw std::runtime_error("db password is hunter2"); }},
                          {"inc", wants_an_int()}});
        auto& client = start("client");
        ASSERT_TRUE(client.wait_for_provider("explode", 5s));
        const auto boom = failure_of(client.call("explode", 1, 2s));
        EXPECT_EQ(boom.code(), -32603);
        EXPECT_STREQ(boom.what(), e.failed);
        const auto wrong = failure_of(client.call("inc", std::string("twelve"), 2s));
        EXPECT_EQ(wrong.code(), -32602);
        EXPECT_STREQ(wrong.what(), e.invalid);
        // The server's log has the text either way (the second line within the second is not logged).
        EXPECT_EQ(captured.find(log_level::warn, "the handler of 'explode' threw: db password is hunter2").size(), 1u);
        for (auto& n : nodes_) n->stop();   // before `captured` goes
        nodes_.clear();
        logs_.clear();
    }
}

TEST_F(rpc, an_application_error_is_sent_as_it_is_whatever_the_option) {
    start_server("server", {{"reserve", [](const request&) -> response { throw rpc_error(409, "out of stock"); }}});
    auto& client = start("client");
    ASSERT_TRUE(client.wait_for_provider("reserve", 5s));
    const auto e = failure_of(client.call("reserve", 1, 2s));
    EXPECT_EQ(e.kind(), rpc_errc::remote);
    EXPECT_EQ(e.code(), 409);
    EXPECT_STREQ(e.what(), "out of stock");
}

TEST_F(rpc, a_full_queue_fails_the_call_as_busy) {
    auto o = make_options("server");
    o.rpc_workers = 1;
    o.rpc_queue = 1;
    start_server(o, {{"slow", blocked()}});
    auto& client = start("client");
    ASSERT_TRUE(client.wait_for_provider("slow", 5s));
    auto running = client.call("slow", 1, 10s);
    ASSERT_TRUE(wait_until([&] { return gate_.entered() == 1; }, 5s));
    // One connection keeps them in order: the second waits in the queue, the third finds it full.
    auto queued = client.call("slow", 2, 10s);
    auto refused = failure_of(client.call("slow", 3, 5s));
    EXPECT_EQ(refused.kind(), rpc_errc::busy);
    EXPECT_EQ(refused.code(), -32000);
    EXPECT_EQ(to_string(refused.kind()), "busy");
    gate_.open();
    EXPECT_EQ(result_of<int>(std::move(running)), 0);
    EXPECT_EQ(result_of<int>(std::move(queued)), 0);
}

}  // namespace
}  // namespace zmesh::test
