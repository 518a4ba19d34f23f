// SPDX-License-Identifier: MPL-2.0
// worker_pool: requests wait for a handler thread; the next goes to the least loaded worker,
// each holding at most worker_credit; expired ones are dropped on the way; the queue bounds
// what may wait.
#include "node/rpc/worker_pool.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;
const auto t0 = worker_pool::clock::time_point{} + 1h;

std::unique_ptr<rpc_job> job(std::uint64_t id, worker_pool::clock::time_point deadline = t0 + 1s) {
    auto j = std::make_unique<rpc_job>();
    j->id = id;
    j->deadline = deadline;
    return j;
}

TEST(worker_pool, jobs_wait_until_a_worker_is_ready) {
    worker_pool pool(10);
    std::uint64_t expired = 0;
    pool.queue(job(1));
    EXPECT_FALSE(pool.next(t0, expired));
    pool.ready("w1");
    const auto h = pool.next(t0, expired);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->worker, "w1");
    EXPECT_EQ(h->job->id, 1u);
}

TEST(worker_pool, next_job_goes_to_the_least_loaded_worker_within_its_credit) {
    worker_pool pool(100);
    std::uint64_t expired = 0;
    pool.ready("a");
    pool.ready("b");
    pool.ready("a");   // said twice: one worker
    EXPECT_EQ(pool.workers(), 2u);
    for (std::uint64_t i = 0; i < 2 * worker_credit + 1; ++i) pool.queue(job(i));
    std::map<std::string, int> held;
    while (auto h = pool.next(t0, expired)) ++held[h->worker];
    EXPECT_EQ(held["a"], static_cast<int>(worker_credit));
    EXPECT_EQ(held["b"], static_cast<int>(worker_credit));
    EXPECT_EQ(pool.queued(), 1u) << "past every worker's credit, a job waits";
    pool.answered("b");
    const auto h = pool.next(t0, expired);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->worker, "b");
}

TEST(worker_pool, expired_jobs_are_dropped_and_counted) {
    worker_pool pool(10);
    std::uint64_t expired = 0;
    pool.ready("w");
    pool.queue(job(1, t0 - 1ms));
    pool.queue(job(2));
    const auto h = pool.next(t0, expired);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->job->id, 2u);
    EXPECT_EQ(expired, 1u);
}

TEST(worker_pool, the_queue_is_bounded) {
    worker_pool pool(2);
    EXPECT_FALSE(pool.full());
    pool.queue(job(1));
    pool.queue(job(2));
    EXPECT_TRUE(pool.full());
    pool.clear();
    EXPECT_FALSE(pool.full());
}

}  // namespace
}  // namespace zmesh::detail
