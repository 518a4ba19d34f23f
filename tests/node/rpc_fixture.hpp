// SPDX-License-Identifier: MPL-2.0
// rpc fixture: in-process servers and callers, handlers held at a gate, and waiting on a
// call's result or failure with a deadline. Shared by the RPC test files.
#pragma once

#include "node_fixture.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace zmesh::test {

// Where a handler waits until the test lets it go: blocking without sleeping.
class gate {
public:
    void pass() {
        std::unique_lock lock(mutex_);
        ++entered_;
        ++inside_;
        changed_.wait(lock, [&] { return open_; });
        --inside_;
    }
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    int entered() const { std::lock_guard lock(mutex_); return entered_; }
    int inside() const { std::lock_guard lock(mutex_); return inside_; }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    int entered_ = 0, inside_ = 0;
    bool open_ = false;
};

// Throws (failing the test) when `f` is still pending after `within`.
inline void await(std::future<reply>& f, milliseconds within) {
    if (f.wait_for(within) != std::future_status::ready)
        throw std::runtime_error("call pending after " + std::to_string(within.count()) + " ms");
}

// Returns: the result of `f` as a T. Throws (failing the test) when it failed or hangs.
template <class T>
T result_of(std::future<reply> f, milliseconds within = 5s) {
    await(f, within);
    return f.get().as<T>();
}

// Returns: the error `f` failed with. Throws (failing the test) when it succeeded or hangs.
inline rpc_error failure_of(std::future<reply> f, milliseconds within = 5s) {
    await(f, within);
    try {
        f.get();
    } catch (const rpc_error& e) {
        return e;
    }
    throw std::runtime_error("call succeeded where it should have failed");
}

class rpc : public node_fixture {
protected:
    using methods = std::vector<std::pair<std::string, rpc_handler>>;

    gate gate_;   // a member: blocked handlers may outlive a test body's locals

    // Tests let every handler finish before they end: a handler still running when its node
    // stops hangs stop() (see call_fails_as_peer_lost_at_once_when_its_server_stops).
    void TearDown() override {
        gate_.open();
        EXPECT_TRUE(wait_until([&] { return gate_.inside() == 0; }, 5s));
        for (auto& n : nodes_) n->stop();
    }

    // Starts a node that serves `served` from the start (serve() before start()).
    node& start_server(options o, methods served) {
        auto log = std::make_shared<event_log>();
        auto n = std::make_unique<node>(o);
        n->on_peer_event([log](const peer_event& e) { (*log)(e); });
        for (auto& [method, handler] : served) n->serve(method, std::move(handler));
        n->start();
        logs_.push_back(log);
        nodes_.push_back(std::move(n));
        return *nodes_.back();
    }
    node& start_server(const std::string& name, methods served) {
        return start_server(make_options(name), std::move(served));
    }

    // Returns: true once `client` sees `server` joined with `method` in its services (or,
    // with present = false, joined without it).
    static bool sees_method(const node& client, const node& server, const std::string& method,
                            bool present = true) {
        return wait_until([&] {
            for (const auto& p : client.peers())
                if (p.id == server.id() && p.state == peer_state::joined)
                    return (std::find(p.services.begin(), p.services.end(), method) !=
                            p.services.end()) == present;
            return false;
        }, 5s);
    }

    // A handler that waits at gate_, then answers 0.
    rpc_handler blocked() {
        return [this](const request&) -> response {
            gate_.pass();
            return 0;
        };
    }
    static rpc_handler doubler() {
        return [](const request& r) -> response { return r.as<int>() * 2; };
    }
};

}  // namespace zmesh::test
