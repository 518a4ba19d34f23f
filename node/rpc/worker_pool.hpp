// SPDX-License-Identifier: MPL-2.0
// worker_pool: the requests waiting for a handler thread, and which thread gets the next.
// Each worker holds at most worker_credit jobs; the next job goes to the least loaded one
// (an idle one when there is one, so a slow handler does not collect work others could do).
// Pure bookkeeping: no sockets, time as an argument.
#pragma once

#include "node/workers.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zmesh::detail {

class worker_pool {
public:
    using clock = std::chrono::steady_clock;

    // `max_queued`: requests that may wait for a worker (options::rpc_queue).
    explicit worker_pool(std::size_t max_queued) : max_queued_(max_queued) {}

    // Returns: true when no more requests may wait ("busy").
    bool full() const noexcept { return jobs_.size() >= max_queued_; }
    std::size_t queued() const noexcept { return jobs_.size(); }
    std::size_t workers() const noexcept { return workers_.size(); }

    // A worker said it is ready (its first message). Said twice, it counts once.
    void ready(std::string_view worker);
    // A worker answered one of its jobs.
    void answered(std::string_view worker);
    // Queues a request for the next free worker.
    void queue(std::unique_ptr<rpc_job> job) { jobs_.push_back(std::move(job)); }

    struct handover {
        std::string worker;
        std::unique_ptr<rpc_job> job;
    };
    // Returns: the next job and the worker to hand it to (counted as held by it), or nothing
    // when none waits or every worker holds its credit. Jobs whose deadline passed at `now`
    // are dropped on the way (their callers' timeouts answer them), counted in `expired`.
    std::optional<handover> next(clock::time_point now, std::uint64_t& expired);

    // Returns: every worker that said ready, for telling them to quit.
    std::vector<std::string> worker_ids() const;
    // Drops every job still waiting (the node stops).
    void clear() { jobs_.clear(); }

private:
    struct slot {
        std::string id;          // its routing id
        std::size_t jobs = 0;    // handed over, not answered
    };
    std::size_t max_queued_;
    std::vector<slot> workers_;
    std::deque<std::unique_ptr<rpc_job>> jobs_;
};

}  // namespace zmesh::detail
