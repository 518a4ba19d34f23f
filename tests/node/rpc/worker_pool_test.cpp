// SPDX-License-Identifier: MPL-2.0
// worker_pool: requests wait, bounded, for the next free worker, in order; a request never
// waits behind a running handler while another worker sleeps; answers come back in batches,
// signalled on a descriptor while any wait; stop releases every worker.
#include "node/rpc/worker_pool.hpp"

#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <latch>
#include <thread>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<rpc_job> job(std::uint64_t id,
                             std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now() + 1h) {
    auto j = std::make_unique<rpc_job>();
    j->id = id;
    j->deadline = deadline;
    return j;
}

rpc_answer answer(std::uint64_t id) { return {{}, zmq::message_t(&id, sizeof id)}; }

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

TEST(worker_pool, requests_are_taken_in_the_order_they_came) {
    worker_pool pool(10);
    pool.queue(job(1));
    pool.queue(job(2));
    EXPECT_EQ(pool.take()->id, 1u);
    EXPECT_EQ(pool.take()->id, 2u);
}

TEST(worker_pool, expired_requests_are_dropped_on_the_way_and_counted) {
    worker_pool pool(10);
    pool.queue(job(1, std::chrono::steady_clock::now() - 1ms));
    pool.queue(job(2));
    EXPECT_EQ(pool.take()->id, 2u);
    const auto c = pool.take_counts();
    EXPECT_EQ(c.taken, 1u);
    EXPECT_EQ(c.expired, 1u);
    EXPECT_EQ(pool.take_counts().taken, 0u) << "counted once";
}

TEST(worker_pool, the_queue_is_bounded) {
    worker_pool pool(2);
    EXPECT_FALSE(pool.full());
    pool.queue(job(1));
    pool.queue(job(2));
    EXPECT_TRUE(pool.full());
    (void)pool.take();
    EXPECT_FALSE(pool.full()) << "a request taken by a worker no longer waits";
}

TEST(worker_pool, a_worker_waits_for_a_request) {
    worker_pool pool(10);
    auto taken = std::async(std::launch::async, [&] { return pool.take(); });
    EXPECT_EQ(taken.wait_for(50ms), std::future_status::timeout) << "nothing to take yet";
    pool.queue(job(7));
    ASSERT_EQ(taken.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(taken.get()->id, 7u);
}

TEST(worker_pool, a_request_never_waits_behind_a_running_handler_while_a_worker_sleeps) {
    worker_pool pool(10);
    std::latch release(1);
    std::promise<std::uint64_t> second;
    // Two workers; whichever takes request 1 holds it (a slow handler) until released.
    const auto work = [&] {
        while (auto j = pool.take()) {
            if (j->id == 1) release.wait();
            if (j->id == 2) second.set_value(j->id);
        }
    };
    std::jthread a(work), b(work);
    pool.queue(job(1));
    pool.queue(job(2));
    auto got = second.get_future();
    EXPECT_EQ(got.wait_for(5s), std::future_status::ready) << "request 2 waited for request 1";
    release.count_down();
    pool.stop();
}

TEST(worker_pool, answers_signal_the_descriptor_until_every_one_is_taken) {
    worker_pool pool(10);
    EXPECT_FALSE(readable(pool.answers_fd()));
    pool.answer(answer(1));
    pool.answer(answer(2));
    pool.answer(answer(3));
    EXPECT_TRUE(readable(pool.answers_fd()));
    std::vector<rpc_answer> out;
    pool.take_answers(out, 2);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(*out[0].reply.data<std::uint64_t>(), 1u);
    EXPECT_EQ(*out[1].reply.data<std::uint64_t>(), 2u);
    EXPECT_TRUE(readable(pool.answers_fd())) << "one answer still waits";
    pool.take_answers(out, 2);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(*out[2].reply.data<std::uint64_t>(), 3u);
    EXPECT_FALSE(readable(pool.answers_fd()));
    pool.answer(answer(4));
    EXPECT_TRUE(readable(pool.answers_fd())) << "a new answer signals again";
}

TEST(worker_pool, answers_from_many_workers_all_arrive) {
    worker_pool pool(1000);
    constexpr std::uint64_t per_worker = 500;
    std::vector<std::jthread> workers;
    for (int w = 0; w < 4; ++w)
        workers.emplace_back([&] {
            while (auto j = pool.take()) pool.answer(answer(j->id));
        });
    for (std::uint64_t i = 0; i < 4 * per_worker; ++i) pool.queue(job(i));
    std::vector<rpc_answer> out;
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (out.size() < 4 * per_worker && std::chrono::steady_clock::now() < give_up) {
        pollfd p{pool.answers_fd(), POLLIN, 0};
        if (::poll(&p, 1, 100) == 1) pool.take_answers(out, 256);
    }
    EXPECT_EQ(out.size(), 4 * per_worker);
    std::vector<bool> seen(4 * per_worker);
    for (const auto& a : out) seen.at(*a.reply.data<std::uint64_t>()) = true;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), true), static_cast<long>(4 * per_worker));
    pool.stop();
}

TEST(worker_pool, stop_releases_waiting_workers) {
    worker_pool pool(10);
    auto waiting = std::async(std::launch::async, [&] { return pool.take(); });
    EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout);
    pool.stop();
    ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(waiting.get(), nullptr);
}

TEST(worker_pool, stop_drops_the_requests_still_waiting) {
    worker_pool pool(10);
    pool.queue(job(1));
    pool.stop();
    EXPECT_EQ(pool.take(), nullptr);
    pool.queue(job(2));
    EXPECT_EQ(pool.take(), nullptr) << "a stopped pool hands out nothing";
    EXPECT_FALSE(pool.full());
}

}  // namespace
}  // namespace zmesh::detail
