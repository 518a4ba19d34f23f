// SPDX-License-Identifier: MPL-2.0
// pending_calls: ids find their own call only, and an id that is over never finds another
// call, even once its slot holds one.
#include "node/pending_calls.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace zmesh::detail {
namespace {

TEST(pending_calls, an_id_finds_its_call_until_it_is_erased) {
    pending_calls<std::string> calls;
    const auto a = calls.add("a");
    const auto b = calls.add("b");
    EXPECT_NE(a, 0u);
    EXPECT_NE(b, 0u);
    EXPECT_NE(a, b);
    EXPECT_EQ(calls.size(), 2u);
    ASSERT_NE(calls.find(a), nullptr);
    EXPECT_EQ(*calls.find(a), "a");
    EXPECT_EQ(*calls.find(b), "b");

    ASSERT_TRUE(calls.erase(a));
    EXPECT_EQ(calls.find(a), nullptr);
    EXPECT_FALSE(calls.erase(a));   // twice: nothing the second time
    EXPECT_EQ(calls.size(), 1u);
    EXPECT_EQ(*calls.find(b), "b");
}

TEST(pending_calls, an_id_that_is_over_does_not_find_the_call_now_in_its_slot) {
    pending_calls<std::string> calls;
    const auto old_id = calls.add("timed out");
    ASSERT_TRUE(calls.erase(old_id));
    const auto new_id = calls.add("new");   // reuses the slot
    EXPECT_NE(new_id, old_id);
    EXPECT_EQ(static_cast<std::uint32_t>(new_id), static_cast<std::uint32_t>(old_id));
    EXPECT_EQ(calls.find(old_id), nullptr);   // a late reply to the old call is a stray
    EXPECT_FALSE(calls.erase(old_id));
    EXPECT_EQ(*calls.find(new_id), "new");
}

TEST(pending_calls, ids_never_issued_find_nothing) {
    pending_calls<int> calls;
    EXPECT_EQ(calls.find(0), nullptr);
    EXPECT_EQ(calls.find(12345), nullptr);
    const auto id = calls.add(7);
    EXPECT_EQ(calls.find(id + 1), nullptr);                      // a slot never used
    EXPECT_EQ(calls.find(id + (std::uint64_t{1} << 32)), nullptr);   // a use not yet made
    EXPECT_EQ(calls.find(~std::uint64_t{0}), nullptr);
}

TEST(pending_calls, for_each_visits_exactly_the_pending_calls) {
    pending_calls<int> calls;
    std::map<std::uint64_t, int> expected;
    for (int i = 0; i < 100; ++i) expected[calls.add(i)] = i;
    for (auto it = expected.begin(); it != expected.end();) {   // erase every third
        if (it->second % 3 == 0) {
            ASSERT_TRUE(calls.erase(it->first));
            it = expected.erase(it);
        } else {
            ++it;
        }
    }
    for (int i = 100; i < 120; ++i) expected[calls.add(i)] = i;   // some reuse freed slots
    std::map<std::uint64_t, int> seen;
    calls.for_each([&](std::uint64_t id, int v) { seen[id] = v; });
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(calls.size(), expected.size());
}

TEST(pending_calls, slots_of_a_burst_are_released_once_none_is_pending_and_old_ids_stay_over) {
    pending_calls<int> calls;
    const std::size_t burst = pending_calls<int>::keep_slots * 4;
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < burst; ++i) ids.push_back(calls.add(static_cast<int>(i)));
    EXPECT_EQ(calls.slots(), burst);
    for (std::size_t i = 0; i + 1 < burst; ++i) ASSERT_TRUE(calls.erase(ids[i]));
    EXPECT_EQ(calls.slots(), burst);   // one still pending: nothing released yet
    ASSERT_TRUE(calls.erase(ids.back()));
    EXPECT_EQ(calls.slots(), 0u);

    // New calls take the old indexes again, and no old id finds one of them.
    std::vector<std::uint64_t> fresh;
    for (std::size_t i = 0; i < burst; ++i) fresh.push_back(calls.add(-1));
    for (const auto id : ids) EXPECT_EQ(calls.find(id), nullptr) << id;
    for (const auto id : fresh) EXPECT_NE(calls.find(id), nullptr) << id;
}

TEST(pending_calls, a_steady_callers_slots_are_kept) {
    pending_calls<int> calls;
    for (int round = 0; round < 3; ++round) {
        std::vector<std::uint64_t> ids;
        for (int i = 0; i < 100; ++i) ids.push_back(calls.add(i));
        for (const auto id : ids) ASSERT_TRUE(calls.erase(id));
        EXPECT_EQ(calls.slots(), 100u);
    }
}

}  // namespace
}  // namespace zmesh::detail
