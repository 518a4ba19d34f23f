// SPDX-License-Identifier: MPL-2.0
// rpc_server: the methods a node serves, and each REQUEST that comes in: refused (bad,
// unknown, busy) with an error REPLY, run on the reactor at once, or queued for the handler
// threads (worker_pool) and answered when a worker is done. Owns the inproc ROUTER the
// workers connect to; replies go out through the node's ROUTER (reply_port).
#pragma once

#include "node/by_name.hpp"
#include "node/command.hpp"
#include "node/context.hpp"
#include "node/socket_use.hpp"
#include "node/workers.hpp"
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

    // Binds the ROUTER the worker threads connect to at `workers_endpoint` (inproc, in the
    // process-wide pipe context). `workers_used` marks that socket used (socket_use).
    rpc_server(node_context& ctx, shared_counters& counters, reply_port& replies,
               const std::string& workers_endpoint, socket_use workers_used);

    // Serves `c.method` (or stops serving it, with no handler). Returns: whether the list of
    // methods changed: peers must then be told (HELLO).
    bool serve(serve_command& c);
    // Returns: the methods served, sorted and unique (as HELLO wants).
    std::vector<std::string> methods() const;

    // A REQUEST from a joined peer, `caller` named `caller_name`.
    void on_request(const protocol::node_id& caller, const std::string& caller_name, routed_frame& in,
                    clock::time_point now);

    // The socket the workers' answers arrive on, and its handler.
    zmq::socket_t& workers_socket() noexcept { return workers_; }
    void on_workers(clock::time_point now);

    // Tells every worker to quit (after the jobs it holds); drops the jobs still queued.
    // Waits (up to 10 s) for workers started but not yet ready, which would never hear it.
    void stop();

private:
    // Answers request `id`, which came with `routing`, with an error.
    void reply_error(zmq::message_t& routing, std::uint64_t id, std::int64_t code, const std::string& message);
    void dispatch(clock::time_point now);
    // Reads one message of a worker. Returns: false when none is waiting.
    bool read_worker(zmq::message_t& worker, zmq::message_t& caller, zmq::message_t& frame);

    struct service {
        std::shared_ptr<const rpc_handler> handler;
        run_on where;
    };
    node_context& ctx_;
    shared_counters& counters_;
    reply_port& replies_;
    socket_use workers_used_;
    by_name<service> services_;   // found by a string_view
    zmq::socket_t workers_;       // ROUTER to handler threads
    worker_pool pool_;
    rpc_done done_;               // the reply of a handler run on the reactor
};

}  // namespace zmesh::detail
