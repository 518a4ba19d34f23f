// SPDX-License-Identifier: MPL-2.0
// rpc_server: the methods a node serves, and each REQUEST that comes in: refused (bad,
// unknown, busy) with an error REPLY, run on the reactor at once, or queued for the handler
// threads (worker_pool) and answered when a worker is done. Replies go out through the
// node's ROUTER (reply_port).
#pragma once

#include "node/by_name.hpp"
#include "node/command.hpp"
#include "node/context.hpp"
#include "workers.hpp"
#include "reserved.hpp"
#include "routed_frame.hpp"
#include "worker_pool.hpp"

#include <zmq.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace zmesh::detail {

class rpc_server {
public:
    using clock = std::chrono::steady_clock;

    // `workers`: the hand-off to the node's handler threads, shared with them; `errors`: where
    // what handlers run on the reactor throw is logged.
    // `reserved`: the node's own methods, asked first (see reserved.hpp).
    rpc_server(node_context& ctx, reply_port& replies, std::shared_ptr<worker_pool> workers,
               handler_error_log& errors, reserved_methods& reserved);

    // Serves `c.method` (or stops serving it, with no handler). Returns: whether the list of
    // methods changed: peers must then be told (HELLO).
    bool serve(serve_command& c);
    // Returns: the methods served, sorted and unique (as HELLO wants).
    std::vector<std::string> methods() const;

    // A REQUEST from a joined peer, `caller` named `caller_name`.
    void on_request(const protocol::node_id& caller, const std::string& caller_name, routed_frame& in,
                    clock::time_point now);

    // Answers a request the reserved methods took: `result` (one msgpack object) when
    // `code` is 0, else an error with `message`.
    void answer(const pending_reply& to, std::int64_t code, const std::string& message,
                std::span<const std::uint8_t> result);

    // A descriptor readable while the workers' answers wait, and its handler, which sends a
    // batch of them.
    int answers_fd() const noexcept { return pool_->answers_fd(); }
    void on_answers();
    // Counts the requests the workers took or dropped as expired since the last time (the
    // node's stats are read).
    void count_workers();

    // Tells every worker to quit (after the handler it runs); drops the requests still queued.
    void stop() { pool_->stop(); }

private:
    // Answers request `id`, which came with `routing`, with an error.
    void reply_error(zmq::message_t& routing, std::uint64_t id, std::int64_t code, const std::string& message);

    // Answers sent per round: a batch keeps the workers from starving the node's sockets.
    static constexpr std::size_t max_answers_per_round = 256;
    struct service {
        std::shared_ptr<const rpc_handler> handler;
        run_on where;
    };
    node_context& ctx_;
    reply_port& replies_;
    reserved_methods& reserved_;
    by_name<service> services_;   // found by a string_view
    std::shared_ptr<worker_pool> pool_;
    std::vector<rpc_answer> answers_;   // a batch taken from the pool (capacity kept)
    rpc_done done_;                     // the reply of a handler run on the reactor
    handler_policy policy_;             // for handlers run on the reactor
};

}  // namespace zmesh::detail
