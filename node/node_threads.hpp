// SPDX-License-Identifier: MPL-2.0
// node_threads: what a running node holds beside its public object — the reactor, delivery
// and worker threads and the pipe ends that are not the reactor's — shared by node.cpp
// (start, stop, queries), node_events.cpp and node_rpc.cpp.
#pragma once

#include <zmesh/node.hpp>

#include "command.hpp"
#include "command_pipe.hpp"
#include "data_dir.hpp"
#include "metrics_server.hpp"
#include "delivery.hpp"
#include "reactor.hpp"
#include "view_signal.hpp"
#include "rpc/worker_pool.hpp"
#include "rpc/workers.hpp"

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace zmesh {

// The threads of a running node, and the pipe ends that are not the reactor's.
struct node::threads {
    threads(int publish_queue, std::size_t rpc_queue)
        : commands(command_endpoint, publish_queue), pool(std::make_shared<detail::worker_pool>(rpc_queue)) {}

    std::string command_endpoint = detail::unique_inproc("cmd");
    detail::command_sender commands;
    std::shared_ptr<detail::delivery_queue> deliveries = std::make_shared<detail::delivery_queue>();
    // Requests for the workers, shared with the reactor; outlives the workers (joined first).
    std::shared_ptr<detail::worker_pool> pool;
    std::vector<std::jthread> workers;   // none until a method is served on them
    std::once_flag workers_started;
    std::jthread reactor_thread;
    std::jthread delivery_thread;
    std::thread::id delivery_thread_id;
    detail::reactor* reactor = nullptr;   // compared, never used, off its own thread
    std::shared_ptr<detail::view_signal> view = std::make_shared<detail::view_signal>();
    std::unique_ptr<detail::data_dir_lock> data_dir;   // with options::data_dir
    // With options::metrics_endpoint; asks the node, so it goes first when the node stops.
    std::unique_ptr<detail::metrics_server> metrics;

    // Where a stream message's settle goes: the node while it runs. A message may outlive
    // its node's run (kept by the application); its settle then does nothing.
    struct settle_gate {
        std::mutex mutex;
        node* target = nullptr;
    };
    std::shared_ptr<settle_gate> settles = std::make_shared<settle_gate>();
    // The consumers running (stream, consumer name) by id: consume() refuses a second one.
    std::mutex consumers_mutex;
    std::map<consumer_id, std::pair<std::string, std::string>> consumers;

    // Returns: this node's reactor when the caller is code it runs (run_on::reactor), which
    // hands it work directly instead of through the pipe; else null.
    detail::reactor* reactor_of_this_thread() const noexcept {
        auto* r = detail::reactor::of_this_thread();
        return r == reactor ? r : nullptr;
    }

    // Returns: whether this thread is one of the node's own (reactor, delivery, RPC worker),
    // which must not wait for the node: the node would wait for it in turn.
    bool own_thread(bool workers_too) const {
        const auto self = std::this_thread::get_id();
        if (self == delivery_thread_id || self == reactor_thread.get_id()) return true;
        return workers_too && detail::is_worker_of(*pool);
    }

    // A generous bound by default: the reactor answers within one poll, but a caller must
    // never hang on a reactor that is stopping.
    template <class Reply, class Query>
    Reply ask(std::chrono::milliseconds within = std::chrono::seconds(10)) {
        auto q = std::make_unique<detail::command>(Query{});
        auto reply = std::get<Query>(*q).reply.get_future();
        if (!detail::send_command(commands.socket(), std::move(q))) return Reply{};
        if (reply.wait_for(within) != std::future_status::ready) return Reply{};
        try {
            return reply.get();
        } catch (const std::future_error&) {
            return Reply{};   // the reactor stopped before answering
        }
    }
};

// The prefixes this node subscribes to, counted: the bounds every publisher holds its
// subscribers to are checked before the reactor hears of one.
struct node::prefix_counts {
    std::mutex mutex;
    std::map<std::string, int> subscriptions;          // by prefix
    std::size_t bytes = 0;                             // of the distinct prefixes
    std::unordered_map<subscription_id, std::string> prefix_of;
};

// The counters the reactor, the delivery thread and publishing threads share, under a name
// of node's own: the public header declares it without the internal type.
struct node::counters : detail::shared_counters {};

template <class Command>
void node::send_command(Command&& c) const {
    // From code this node runs on its reactor: straight to the reactor, no pipe.
    if (auto* r = threads_->reactor_of_this_thread()) return r->post(std::forward<Command>(c));
    detail::send_command(threads_->commands.socket(), std::make_unique<detail::command>(std::forward<Command>(c)));
}

}  // namespace zmesh
