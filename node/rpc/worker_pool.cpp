// SPDX-License-Identifier: MPL-2.0
// worker_pool: requests to the workers, answers to the reactor.
#include "worker_pool.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>
#include <system_error>
#include <utility>

namespace zmesh::detail {

worker_pool::worker_pool(std::size_t max_queued)
    : max_queued_(max_queued), answers_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (answers_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

worker_pool::~worker_pool() { ::close(answers_fd_); }

bool worker_pool::full() const {
    std::lock_guard lock(jobs_mutex_);
    return jobs_.size() >= max_queued_;
}

void worker_pool::queue(std::unique_ptr<rpc_job> job) {
    std::unique_lock lock(jobs_mutex_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
    wake_one_if_needed(lock);
}

void worker_pool::wake_one_if_needed(std::unique_lock<std::mutex>& lock) {
    // One wake-up on its way at a time: a burst of requests wakes one worker, which wakes the
    // next only if requests still wait when it takes one. Fast handlers are then run by the
    // workers already awake; slow ones bring in another worker a wake-up later.
    if (jobs_.empty() || sleeping_ == 0 || waking_) return;
    waking_ = true;
    lock.unlock();   // or the worker woken would wait for this lock at once
    job_ready_.notify_one();
}

std::unique_ptr<rpc_job> worker_pool::take() {
    std::unique_lock lock(jobs_mutex_);
    while (true) {
        while (jobs_.empty() && !stopping_) {
            ++sleeping_;
            job_ready_.wait(lock);
            --sleeping_;
            waking_ = false;   // a worker is up (this one): the next wake-up may go
        }
        if (stopping_) return nullptr;
        auto job = std::move(jobs_.front());
        jobs_.pop_front();
        if (job->deadline < std::chrono::steady_clock::now()) {
            ++counts_.expired;   // its caller's timeout answers it
            continue;
        }
        ++counts_.taken;
        wake_one_if_needed(lock);   // this worker is about to run a handler
        return job;
    }
}

worker_pool::counts worker_pool::take_counts() {
    std::lock_guard lock(jobs_mutex_);
    return std::exchange(counts_, {});
}

void worker_pool::answer(rpc_answer a) {
    std::unique_lock lock(answers_mutex_);
    answers_.push_back(std::move(a));
    if (answers_.size() > 1) return;   // the descriptor signals already
    // Signalled after the lock is free, or the reactor would wake to wait for it. Should the
    // reactor take this answer first, it wakes once more for nothing, and clears it.
    lock.unlock();
    const std::uint64_t one = 1;
    (void)!::write(answers_fd_, &one, sizeof one);   // cannot fail: far from the counter's limit
}

void worker_pool::take_answers(std::vector<rpc_answer>& out, std::size_t max) {
    std::lock_guard lock(answers_mutex_);
    const auto n = std::min(max, answers_.size());
    std::move(answers_.begin(), answers_.begin() + static_cast<std::ptrdiff_t>(n), std::back_inserter(out));
    answers_.erase(answers_.begin(), answers_.begin() + static_cast<std::ptrdiff_t>(n));
    if (!answers_.empty()) return;   // the rest with the next round: the descriptor stays readable
    std::uint64_t count;
    (void)!::read(answers_fd_, &count, sizeof count);   // clears it
}

void worker_pool::stop() {
    std::deque<std::unique_ptr<rpc_job>> dropped;
    {
        std::lock_guard lock(jobs_mutex_);
        stopping_ = true;
        dropped.swap(jobs_);
        job_ready_.notify_all();
    }
}

}  // namespace zmesh::detail
