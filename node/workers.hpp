// SPDX-License-Identifier: MPL-2.0
// workers: the threads that run RPC handlers, so a slow handler never holds up the reactor.
// The reactor binds an inproc ROUTER; each worker connects a DEALER and is handed jobs, at
// most worker_credit at a time (the reactor keeps the queue and counts each worker's
// jobs: no shared queue, no lock).
#pragma once

#include "pipe.hpp"
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

// Jobs one worker may hold. One would make every job wait for a reactor round trip after
// the last (a busy server ran at a third of the speed); more lets a worker run its next job
// at once. Jobs go to an idle worker first, so only a server with every worker busy queues
// behind a running handler, and never more than this.
inline constexpr std::size_t worker_credit = 4;

// One request for a worker. The reactor sends it as an owned pointer; a null pointer tells
// the worker to quit.
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
// A worker passes it to the reactor as two frames, [caller's routing id][the REPLY frame]:
// bytes, not a pointer, so a reply the reactor no longer reads (node stopping) is freed with
// its pipe. A worker's first message is one empty frame, meaning "ready".
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

// Sets `out` to the reply for `reply_to` to request `id` after running `handler` on `req`.
// The handler is lent `req`'s bytes: `out` may refer to them (see response), so they must
// outlive its use. Never throws.
void run_handler(const rpc_handler& handler, const request& req,
                 const protocol::sender_route& reply_to, std::uint64_t id,
                 std::size_t max_result_size, rpc_done& out);
// Sets `out` to the reply for `job` after running its handler. Never throws.
void run_job(const rpc_job& job, std::size_t max_result_size, rpc_done& out);

// Starts `count` worker threads connected to `endpoint`. Each runs until told to quit.
std::vector<std::jthread> start_workers(const std::string& endpoint, std::size_t count,
                                        std::size_t max_result_size);

}  // namespace zmesh::detail
