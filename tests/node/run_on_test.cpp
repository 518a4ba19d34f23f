// SPDX-License-Identifier: MPL-2.0
// run_on: handlers and call callbacks on the reactor thread, RPC workers started only when
// a method needs them, and calls and publishes made from reactor code (which skip the pipe).
#include "node_fixture.hpp"

#include <pthread.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

namespace zmesh::test {
namespace {

// Returns: the calling thread's name, as the node's threads set it.
std::string thread_name() {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return name;
}

// Returns: the name of each thread of this process, by tid. A thread that ends while this
// reads is left out.
std::map<std::string, std::string> threads_by_tid() {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (const auto& t : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream comm(t.path() / "comm");
        if (std::string name; std::getline(comm, name)) out[t.path().filename()] = name;
    }
    return out;
}

// Returns: the call's result as a T, or the rpc_error it failed with. Throws (failing the
// test) when it hangs, or succeeded where it should have failed.
template <class T>
T result_of(std::future<reply> f) {
    if (f.wait_for(5s) != std::future_status::ready) throw std::runtime_error("call hangs");
    return f.get().as<T>();
}
rpc_error failure_of(std::future<reply> f) {
    if (f.wait_for(5s) != std::future_status::ready) throw std::runtime_error("call hangs");
    try {
        f.get();
    } catch (const rpc_error& e) {
        return e;
    }
    throw std::runtime_error("call succeeded where it should have failed");
}

rpc_handler doubler() { return [](const request& r) -> response { return r.as<int>() * 2; }; }

class run_on_reactor : public node_fixture {
protected:
    using methods = std::vector<std::tuple<std::string, rpc_handler, run_on>>;

    // Nodes stop before the test's state goes: callbacks still pending fail (and run) now.
    void TearDown() override { for (auto& n : nodes_) n->stop(); }

    node& start_server(options o, methods served) {
        nodes_.push_back(std::make_unique<node>(o));
        for (auto& [method, handler, where] : served) nodes_.back()->serve(method, handler, where);
        nodes_.back()->start();
        return *nodes_.back();
    }
    node& start_server(const std::string& name, methods served) {
        return start_server(make_options(name), std::move(served));
    }

    // Returns: true once `client` sees `server` joined, serving `method`.
    static bool sees_method(const node& client, const node& server, const std::string& method) {
        return wait_until([&] {
            for (const auto& p : client.peers())
                if (p.id == server.id() && p.state == peer_state::joined)
                    return std::count(p.services.begin(), p.services.end(), method) == 1;
            return false;
        }, 5s);
    }

    // Returns: a client that sees a server answering "plus.one" (n + 1) on its reactor, or
    // null when it never does.
    node* plus_one_client() {
        auto& server = start_server("server", {{"plus.one", [](const request& r) -> response {
            return r.as<int>() + 1;
        }, run_on::reactor}});
        auto& client = start("client");
        return sees_method(client, server, "plus.one") ? &client : nullptr;
    }
};

TEST_F(run_on_reactor, handlers_run_on_the_reactor_or_on_a_worker_as_served) {
    const rpc_handler where = [](const request&) -> response { return thread_name(); };
    auto& server = start_server("server", {{"on.reactor", where, run_on::reactor},
                                           {"on.worker", where, run_on::handler_thread}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "on.worker"));
    EXPECT_EQ(result_of<std::string>(client.call("on.reactor", 0, 2s)), "zmesh-reactor");
    EXPECT_EQ(result_of<std::string>(client.call("on.worker", 0, 2s)), "zmesh-rpc");

    // After start too; serving a method again moves it.
    server.serve("late", where, run_on::reactor);
    server.serve("on.worker", where, run_on::reactor);
    ASSERT_TRUE(sees_method(client, server, "late"));
    EXPECT_EQ(result_of<std::string>(client.call("late", 0, 2s)), "zmesh-reactor");
    EXPECT_EQ(result_of<std::string>(client.call("on.worker", 0, 2s)), "zmesh-reactor");
    EXPECT_EQ(server.stats().rpc_served, 4u);
}

TEST_F(run_on_reactor, call_callbacks_run_on_the_reactor_or_the_delivery_thread) {
    auto& server = start_server("server", {{"double", doubler(), run_on::handler_thread}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "double"));

    // What each callback saw: "<thread> <result or error kind>", by call.
    auto seen = std::make_shared<std::pair<std::mutex, std::map<std::string, std::string>>>();
    const auto record = [seen](std::string call) {
        return [seen, call](const call_result& r) {
            std::lock_guard lock(seen->first);
            const auto what = r.ok() ? std::to_string(r.value().as<int>())
                                     : std::string(to_string(r.error().kind()));
            seen->second[call] = thread_name() + " " + what;
        };
    };
    client.call("double", 21, 2s, record("reactor"), run_on::reactor);
    client.call("double", 4, 2s, record("delivery"));
    // Failed in the reactor itself, before any message: the callback still runs there.
    client.call("nobody.serves.this", 1, 2s, record("no provider"), run_on::reactor);
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(seen->first);
        return seen->second.size() == 3;
    }, 5s));
    std::lock_guard lock(seen->first);
    EXPECT_EQ(seen->second, (std::map<std::string, std::string>{
                                {"reactor", "zmesh-reactor 42"},
                                {"delivery", "zmesh-deliver 8"},
                                {"no provider", "zmesh-reactor no_provider"}}));
}

TEST_F(run_on_reactor, workers_start_only_with_the_first_method_served_on_them) {
    const auto before = threads_by_tid();
    // Counts the threads started since `before` that carry `name` now.
    const auto started = [&](const std::string& name) {
        std::size_t n = 0;
        for (const auto& [tid, comm] : threads_by_tid()) n += !before.count(tid) && comm == name;
        return n;
    };
    auto o = make_options("server");
    o.rpc_workers = 3;
    auto& server = start_server(o, {{"double", doubler(), run_on::reactor}});
    auto& client = start("client");   // only calls: no workers either
    ASSERT_TRUE(sees_method(client, server, "double"));
    EXPECT_EQ(result_of<int>(client.call("double", 2, 2s)), 4);
    // A thread names itself once it runs, and has this thread's name until then: wait until
    // none has it, so a worker not yet named is not missed.
    const auto unnamed = thread_name();
    ASSERT_TRUE(wait_until([&] { return started(unnamed) == 0; }, 5s));
    EXPECT_EQ(started("zmesh-reactor"), 2u);
    EXPECT_EQ(started("zmesh-deliver"), 2u);
    EXPECT_EQ(started("zmesh-rpc"), 0u);

    server.serve("triple", [](const request& r) -> response { return r.as<int>() * 3; });
    EXPECT_TRUE(wait_until([&] { return started("zmesh-rpc") == 3; }, 5s)) << started("zmesh-rpc");
    server.serve("plus.one", [](const request& r) -> response { return r.as<int>() + 1; });
    ASSERT_TRUE(sees_method(client, server, "plus.one"));
    EXPECT_EQ(result_of<int>(client.call("triple", 2, 2s)), 6);
    EXPECT_EQ(result_of<int>(client.call("plus.one", 2, 2s)), 3);
    EXPECT_EQ(started("zmesh-rpc"), 3u);   // the second method started none
}

// A chain of calls, each made by the previous one's callback on the client's reactor.
struct chain {
    std::mutex mutex;
    std::vector<int> results;
    int off_reactor = 0;
    bool done = false;
};

void call_next(node& client, std::shared_ptr<chain> c, int i, int last) {
    client.call("plus.one", i, 5s, [&client, c, i, last](const call_result& r) {
        const int got = r.ok() ? r.value().as<int>() : -1;
        std::unique_lock lock(c->mutex);
        c->results.push_back(got);
        c->off_reactor += thread_name() != "zmesh-reactor";
        c->done = got != i + 1 || got == last;
        lock.unlock();
        if (!c->done) call_next(client, c, got, last);   // posted to this reactor, not piped
    }, run_on::reactor);
}

TEST_F(run_on_reactor, calls_chained_from_reactor_callbacks_all_complete_in_order) {
    auto* joined = plus_one_client();
    ASSERT_NE(joined, nullptr) << "the client never saw plus.one";
    auto& client = *joined;

    constexpr int calls = 1000;
    auto c = std::make_shared<chain>();
    call_next(client, c, 0, calls);
    ASSERT_TRUE(wait_until([&] { std::lock_guard lock(c->mutex); return c->done; }, 10s));
    std::vector<int> expected(calls);
    std::iota(expected.begin(), expected.end(), 1);
    std::lock_guard lock(c->mutex);
    EXPECT_EQ(c->results, expected);
    EXPECT_EQ(c->off_reactor, 0);
    EXPECT_EQ(client.stats().rpc_ok, static_cast<std::uint64_t>(calls));
}

TEST_F(run_on_reactor, calls_pipelined_from_reactor_callbacks_each_get_their_own_answer) {
    // A callback's next call is sent before the reactor reads the next reply: with many
    // outstanding, calls and replies interleave within one batch of the ROUTER.
    auto* joined = plus_one_client();
    ASSERT_NE(joined, nullptr) << "the client never saw plus.one";
    auto& client = *joined;

    constexpr int window = 64, calls = 5000;
    struct state {   // touched on the client's reactor only, read after `finished`
        int started = 0, answered = 0, wrong = 0;
        std::set<int> args_seen;
        std::promise<void> finished;
    };
    auto s = std::make_shared<state>();
    std::function<void()> next = [&client, s, &next] {
        const int arg = s->started++;
        client.call("plus.one", arg, 5s, [s, arg, &next](const call_result& r) {
            if (!r.ok() || r.value().as<int>() != arg + 1) ++s->wrong;
            s->args_seen.insert(arg);
            if (s->started < calls) next();
            if (++s->answered == calls) s->finished.set_value();
        }, run_on::reactor);
    };
    // The first window from the reactor too (a 0 ms timer is not on offer: a call from this
    // thread goes through the pipe, and its callback starts the rest).
    client.call("plus.one", -1, 5s, [&](const call_result&) {
        for (int i = 0; i < window; ++i) next();
    }, run_on::reactor);
    ASSERT_EQ(s->finished.get_future().wait_for(20s), std::future_status::ready);
    EXPECT_EQ(s->wrong, 0);
    EXPECT_EQ(s->args_seen.size(), static_cast<std::size_t>(calls));
    EXPECT_EQ(client.stats().rpc_ok, static_cast<std::uint64_t>(calls + 1));
    EXPECT_EQ(client.stats().rpc_stray_replies, 0u);
}

TEST_F(run_on_reactor, a_reactor_callback_retrying_a_failed_call_never_runs_inside_itself) {
    // A call from reactor code is sent at once; one that fails at once (no provider) reports
    // it after the code that made it returns, or a callback that retries would nest deeper
    // with every retry until the stack ran out.
    auto& client = start("client");
    constexpr int retries = 20000;
    struct state {   // touched on the client's reactor only, read after `finished`
        int depth = 0, deepest = 0, failures = 0, other = 0;
        std::promise<void> finished;
    };
    auto s = std::make_shared<state>();
    std::function<void(const call_result&)> retry = [&client, s, &retry](const call_result& r) {
        s->deepest = std::max(s->deepest, ++s->depth);
        if (!r.ok() && r.error().kind() == rpc_errc::no_provider)
            ++s->failures;
        else
            ++s->other;
        if (s->failures + s->other < retries)
            client.call("nobody.serves.this", 1, 5s, retry, run_on::reactor);
        else
            s->finished.set_value();
        --s->depth;
    };
    client.call("nobody.serves.this", 1, 5s, retry, run_on::reactor);
    ASSERT_EQ(s->finished.get_future().wait_for(20s), std::future_status::ready);
    EXPECT_EQ(s->deepest, 1);
    EXPECT_EQ(s->failures, retries);
    EXPECT_EQ(s->other, 0);
}

TEST_F(run_on_reactor, a_call_made_by_a_reactor_callback_while_the_node_stops_fails_as_stopped) {
    // The server holds every request until the test ends, so the client's call is pending
    // when the client stops; its callback, failed with `stopped`, calls again from the
    // stopping reactor. That call must not be sent, nor hang: it fails as stopped too.
    std::promise<void> release;
    auto released = release.get_future().share();
    auto& server = start_server("server", {{"held", [released](const request&) -> response {
        released.wait();
        return 0;
    }, run_on::handler_thread}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "held"));
    struct outcome {
        std::promise<rpc_errc> first, second;
    };
    auto out = std::make_shared<outcome>();
    client.call("held", 1, 30s, [&client, out](const call_result& r) {
        out->first.set_value(r.ok() ? rpc_errc::remote : r.error().kind());
        client.call("held", 2, 30s, [out](const call_result& again) {
            out->second.set_value(again.ok() ? rpc_errc::remote : again.error().kind());
        }, run_on::reactor);
    }, run_on::reactor);
    ASSERT_TRUE(wait_until([&] { return server.stats().rpc_served >= 1; }, 5s));
    client.stop();
    auto first = out->first.get_future(), second = out->second.get_future();
    ASSERT_EQ(first.wait_for(5s), std::future_status::ready);
    ASSERT_EQ(second.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(first.get(), rpc_errc::stopped);
    EXPECT_EQ(second.get(), rpc_errc::stopped);
    release.set_value();
}

TEST_F(run_on_reactor, events_published_by_a_reactor_handler_arrive_in_order) {
    auto& server = start("server");
    auto& client = start("client");
    auto got = std::make_shared<std::pair<std::mutex, std::vector<std::pair<int, std::string>>>>();
    client.subscribe("burst.", [got](const event& e) {
        std::lock_guard lock(got->first);
        got->second.emplace_back(e.as<int>(), thread_name());
    });
    server.serve("burst", [&server](const request& r) -> response {
        int accepted = 0;
        for (int i = 0; i < r.as<int>(); ++i) accepted += server.publish("burst.n", i);
        return accepted;
    }, run_on::reactor);
    ASSERT_TRUE(sees_method(client, server, "burst"));
    // The server's PUB drops what no subscriber wants yet: wait until it knows ours.
    ASSERT_TRUE(wait_until([&] {
        for (const auto& p : server.peers())
            if (p.id == client.id() && p.subscriptions_known) return true;
        return false;
    }, 5s));

    constexpr int events = 300;
    EXPECT_EQ(result_of<int>(client.call("burst", events, 2s)), events);
    std::vector<std::pair<int, std::string>> expected;
    for (int i = 0; i < events; ++i) expected.emplace_back(i, "zmesh-deliver");
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(got->first);
        return got->second.size() >= expected.size();
    }, 5s));
    std::lock_guard lock(got->first);
    EXPECT_EQ(got->second, expected);
    EXPECT_EQ(server.stats().events_out, static_cast<std::uint64_t>(events));
}

TEST_F(run_on_reactor, events_a_reactor_handler_copies_keep_their_payload_after_it_returns) {
    // A reactor handler is lent the payload inside the frame being read, which is reused for
    // the next one: a copy of the event must carry bytes of its own.
    auto& publisher = start("publisher");
    auto& subscriber = start("subscriber");
    auto kept = std::make_shared<std::pair<std::mutex, std::vector<event>>>();
    subscriber.subscribe("keep.", [kept](const event& e) {
        std::lock_guard lock(kept->first);
        kept->second.push_back(e);
    }, run_on::reactor);
    ASSERT_TRUE(wait_until([&] {
        for (const auto& p : publisher.peers())
            if (p.id == subscriber.id() && p.subscriptions_known) return true;
        return false;
    }, 5s));
    constexpr int events = 500;
    const auto text = [](int i) { return std::string(200, static_cast<char>('a' + i % 26)) + std::to_string(i); };
    for (int i = 0; i < events; ++i) ASSERT_TRUE(publisher.publish("keep.n", text(i)));
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(kept->first);
        return kept->second.size() >= events;
    }, 5s));
    std::lock_guard lock(kept->first);
    ASSERT_EQ(kept->second.size(), static_cast<std::size_t>(events));
    for (int i = 0; i < events; ++i) {
        EXPECT_EQ(kept->second[i].as<std::string>(), text(i)) << "event " << i;
        EXPECT_EQ(kept->second[i].seq(), static_cast<std::uint64_t>(i + 1));
    }
}

TEST_F(run_on_reactor, requests_and_replies_reactor_code_copies_keep_their_bytes) {
    // Reactor handlers and callbacks are lent the bytes inside the frame being read: what
    // they copy must carry bytes of its own once the frame is reused.
    auto kept_requests = std::make_shared<std::pair<std::mutex, std::vector<request>>>();
    auto& server = start_server("server", {{"keep", [kept_requests](const request& r) -> response {
        std::lock_guard lock(kept_requests->first);
        kept_requests->second.push_back(r);
        return r;   // echo
    }, run_on::reactor}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "keep"));
    constexpr int calls = 300;
    const auto text = [](int i) { return std::string(150, static_cast<char>('A' + i % 26)) + std::to_string(i); };
    auto kept_replies = std::make_shared<std::pair<std::mutex, std::vector<std::pair<int, call_result>>>>();
    for (int i = 0; i < calls; ++i)
        client.call("keep", text(i), 5s, [kept_replies, i](const call_result& r) {
            std::lock_guard lock(kept_replies->first);
            kept_replies->second.emplace_back(i, r);
        }, run_on::reactor);
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(kept_replies->first);
        return kept_replies->second.size() >= calls;
    }, 10s));
    std::lock_guard replies_lock(kept_replies->first);
    for (const auto& [i, r] : kept_replies->second) {
        ASSERT_TRUE(r.ok()) << r.error().what();
        EXPECT_EQ(r.value().as<std::string>(), text(i)) << "reply " << i;
    }
    std::lock_guard requests_lock(kept_requests->first);
    ASSERT_EQ(kept_requests->second.size(), static_cast<std::size_t>(calls));
    std::set<std::string> seen;
    for (const auto& r : kept_requests->second) seen.insert(r.as<std::string>());
    for (int i = 0; i < calls; ++i) EXPECT_EQ(seen.count(text(i)), 1u) << "request " << i;
}

TEST_F(run_on_reactor, reactor_code_that_throws_is_answered_and_the_node_goes_on) {
    auto& server = start_server("server", {
        {"explode", [](const request&) -> response { throw std::runtime_error("boom"); },
         run_on::reactor},
        {"conflict", [](const request&) -> response { throw rpc_error(409, "x"); },
         run_on::reactor},
        {"double", doubler(), run_on::reactor}});
    auto& client = start("client");
    ASSERT_TRUE(sees_method(client, server, "double"));

    const auto boom = failure_of(client.call("explode", 1, 2s));
    EXPECT_EQ(boom.kind(), rpc_errc::remote);
    EXPECT_EQ(boom.code(), -32603);
    EXPECT_STREQ(boom.what(), "internal error");   // the text only with options::rpc_expose_errors
    const auto conflict = failure_of(client.call("conflict", 1, 2s));
    EXPECT_EQ(conflict.kind(), rpc_errc::remote);
    EXPECT_EQ(conflict.code(), 409);
    EXPECT_STREQ(conflict.what(), "x");
    EXPECT_EQ(result_of<int>(client.call("double", 21, 2s)), 42);
    EXPECT_EQ(server.stats().rpc_served, 3u);

    // A callback that throws (or stops its own node) on the client's reactor: counted, or
    // refused with logic_error; either way the client keeps calling.
    auto stop_refused = std::make_shared<std::atomic<int>>(0);
    client.call("double", 1, 2s, [](const call_result&) { throw std::runtime_error("cb"); },
                run_on::reactor);
    client.call("double", 1, 2s, [&client, stop_refused](const call_result&) {
        try {
            client.stop();
        } catch (const std::logic_error&) {
            ++*stop_refused;
        }
    }, run_on::reactor);
    EXPECT_TRUE(wait_until([&] { return *stop_refused == 1; }, 5s));
    EXPECT_TRUE(wait_until([&] { return client.stats().handler_errors == 1; }, 5s));
    EXPECT_TRUE(client.running());
    EXPECT_EQ(result_of<int>(client.call("double", 5, 2s)), 10);
}

}  // namespace
}  // namespace zmesh::test
