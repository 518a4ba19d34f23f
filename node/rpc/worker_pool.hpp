// SPDX-License-Identifier: MPL-2.0
// worker_pool: the hand-off between the reactor and the threads that run RPC handlers. The
// reactor queues requests (a bounded number wait; past it callers are told "busy") and
// collects the answers; each worker takes the next request when it is free, so no request
// waits behind a running handler while another worker could take it.
// Wake-ups are what a hand-off between threads costs, so each side is woken only when it
// has nothing left to do: a worker sleeps only when no request waits, one sleeping worker is
// woken at a time (it wakes the next if requests still wait when it takes one), and the
// reactor's descriptor signals when answers start to wait, not for each answer.
#pragma once

#include "workers.hpp"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace zmesh::detail {

class worker_pool {
public:
    // `max_queued`: requests that may wait for a worker (options::rpc_queue). Throws
    // std::system_error when the kernel gives no descriptor.
    explicit worker_pool(std::size_t max_queued);
    ~worker_pool();
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    // The reactor's side.
    // Returns: true when no more requests may wait ("busy").
    bool full() const;
    // Queues a request for the next free worker (when not full()).
    void queue(std::unique_ptr<rpc_job> job);
    // Moves up to `max` answers, oldest first, to the end of `out`.
    void take_answers(std::vector<rpc_answer>& out, std::size_t max);
    // Returns: a descriptor that is readable while answers wait (for the reactor's wait set).
    int answers_fd() const noexcept { return answers_fd_; }
    // Tells the workers to quit, each after the handler it runs; drops the requests still
    // waiting (their callers see this node leave).
    void stop();
    struct counts {
        std::uint64_t taken = 0;     // by a worker, to run its handler
        std::uint64_t expired = 0;   // dropped: their deadline passed while they waited
    };
    // Returns: what became of requests since the last call.
    counts take_counts();

    // The workers' side. Any thread.
    // Returns: the next request, once one waits; null once stop() was called. Requests whose
    // deadline has passed are dropped on the way (their callers have given up).
    std::unique_ptr<rpc_job> take();
    // Hands the answer to a request taken back to the reactor.
    void answer(rpc_answer a);

private:
    // Wakes a sleeping worker when requests wait and none is on its way; unlocks `lock`
    // (on jobs_mutex_) first when it does.
    void wake_one_if_needed(std::unique_lock<std::mutex>& lock);

    const std::size_t max_queued_;
    mutable std::mutex jobs_mutex_;
    std::condition_variable job_ready_;
    std::deque<std::unique_ptr<rpc_job>> jobs_;
    std::size_t sleeping_ = 0;   // workers waiting in take()
    bool waking_ = false;        // one of them was woken and has not taken a job yet
    bool stopping_ = false;
    counts counts_;

    std::mutex answers_mutex_;
    std::vector<rpc_answer> answers_;
    int answers_fd_;   // an eventfd: readable whenever answers_ holds any
};

}  // namespace zmesh::detail
