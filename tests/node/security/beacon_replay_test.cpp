// SPDX-License-Identifier: MPL-2.0
// beacon_replay: a signed beacon is fresh once: not older than the newest of its id, not far
// off the clock, and a copy of the newest only within the copy window.
#include "node/security/beacon_replay.hpp"

#include <gtest/gtest.h>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;
using clock = beacon_replay::clock;

constexpr std::uint64_t wall = 1'800'000'000'000'000;   // µs since the epoch
const auto t0 = clock::time_point{} + 1h;

TEST(beacon_replay, newer_beacons_are_fresh_and_older_ones_replays) {
    beacon_replay r(16);
    const auto id = protocol::node_id::random();
    EXPECT_TRUE(r.fresh(id, wall, wall, t0));
    EXPECT_TRUE(r.fresh(id, wall + 1000, wall + 1000, t0 + 1s));
    EXPECT_FALSE(r.fresh(id, wall, wall + 2000, t0 + 2s));   // captured earlier, sent now
}

TEST(beacon_replay, a_copy_is_taken_only_within_the_copy_window) {
    beacon_replay r(16);
    const auto id = protocol::node_id::random();
    ASSERT_TRUE(r.fresh(id, wall, wall, t0));
    EXPECT_TRUE(r.fresh(id, wall, wall, t0 + beacon_replay::copy_window));   // another interface
    EXPECT_FALSE(r.fresh(id, wall, wall, t0 + beacon_replay::copy_window + 1ms));
}

TEST(beacon_replay, beacons_far_off_the_clock_are_replays_and_leave_no_trace) {
    beacon_replay r(16);
    const auto id = protocol::node_id::random();
    const std::uint64_t skew = std::chrono::microseconds(beacon_replay::max_skew).count();
    EXPECT_FALSE(r.fresh(id, wall - skew - 1, wall, t0));
    EXPECT_FALSE(r.fresh(id, wall + skew + 1, wall, t0));
    // Neither was remembered: an in-time beacon older than them is still fresh.
    EXPECT_TRUE(r.fresh(id, wall - skew, wall, t0));
}

TEST(beacon_replay, the_table_is_bounded_and_restarts_past_it) {
    beacon_replay r(2);
    const auto a = protocol::node_id::random(), b = protocol::node_id::random();
    ASSERT_TRUE(r.fresh(a, wall + 10, wall, t0));
    ASSERT_TRUE(r.fresh(b, wall, wall, t0));
    ASSERT_TRUE(r.fresh(protocol::node_id::random(), wall, wall, t0));   // a third: restart
    EXPECT_TRUE(r.fresh(a, wall, wall, t0)) << "a was forgotten with the restart";
}

}  // namespace
}  // namespace zmesh::detail
