// SPDX-License-Identifier: MPL-2.0
// workers: the threads that run RPC handlers, so a slow handler never holds up the reactor.
// They take requests from the node's worker_pool (worker_pool.hpp) and hand their
// answers back through it; the reactor sends them.
#pragma once

#include "node/handler_errors.hpp"
#include "node/pipe.hpp"
#include "protocol/rpc.hpp"

#include <zmesh/rpc.hpp>

#include <zmq.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace zmesh::detail {

class worker_pool;

// One request for a worker.
struct rpc_job {
    protocol::sender_route caller;   // and the connection to answer on
    std::string caller_name;
    std::uint64_t id = 0;
    std::string method;
    std::shared_ptr<const rpc_handler> handler;
    shared_part args;   // inside the request frame
    std::chrono::steady_clock::time_point deadline;
};

// Returns: the REPLY frame of `h` and `body`, encoded straight into the message libzmq sends.
zmq::message_t reply_frame(const protocol::reply_header& h, std::span<const std::uint8_t> body);
// An error REPLY's body: nil.
inline constexpr std::uint8_t packed_nil[] = {0xc0};

// The answer to a request: the header and body of a REPLY for `caller`, sent as one frame.
struct rpc_done {
    protocol::sender_route caller;
    std::uint64_t id = 0;
    std::int64_t code = protocol::rpc_ok;
    std::string message;              // the error's; empty on success
    std::optional<response> result;   // what the handler returned; none for an error

    // Returns: the REPLY's body: the result's bytes, or nil for an error.
    std::span<const std::uint8_t> body() const noexcept;
    // Returns: the REPLY frame (reply_frame).
    zmq::message_t frame() const { return reply_frame({id, code, message}, body()); }
};

// What a worker hands back to the reactor for one request: the REPLY frame to send to
// `caller`.
struct rpc_answer {
    protocol::sender_route caller;
    zmq::message_t reply;
};

// How a node answers for its handlers (from its options).
struct handler_policy {
    std::size_t max_result_size = 0;   // options::max_rpc_size
    // options::rpc_expose_errors: a handler's exception text goes to the caller; else the
    // caller gets a fixed text and the text is only logged (to `errors`, when given).
    bool expose_errors = false;
    handler_error_log* errors = nullptr;   // outlives the handlers run under this policy
};

// Sets `out` to the reply for `reply_to` to request `id` after running `handler` on `req`.
// The handler is lent `req`'s bytes: `out` may refer to them (see response), so they must
// outlive its use. A decode_error escaping the handler is taken for arguments of another
// type than the handler decodes (-32602); any other exception but an application's
// rpc_error, for a failure of the handler (-32603). Never throws.
void run_handler(const rpc_handler& handler, const request& req,
                 const protocol::sender_route& reply_to, std::uint64_t id,
                 const handler_policy& policy, rpc_done& out);
// Sets `out` to the reply for `job` after running its handler. Never throws.
void run_job(const rpc_job& job, const handler_policy& policy, rpc_done& out);

// Returns: whether this thread is one of `pool`'s workers. Known from the thread's first
// instruction, unlike its std::thread, which its starter may not have stored yet.
bool is_worker_of(const worker_pool& pool) noexcept;

// Starts `count` worker threads serving `pool`. Each runs until the pool stops, which must
// outlive them, as must what `policy` points to.
std::vector<std::jthread> start_workers(worker_pool& pool, std::size_t count, handler_policy policy);

}  // namespace zmesh::detail
