// SPDX-License-Identifier: MPL-2.0
// key_order without a group: a key held by one record at a time, the records behind it ready
// in order when it comes free, a bound on what is held back, keys forgotten when free, and
// trimming.
#include "node/streams/key_order.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace zmesh::detail::streams {
namespace {

using admit = key_order::admit;

std::vector<std::uint64_t> take_ready(key_order& o) {
    std::vector<std::uint64_t> out(o.ready().begin(), o.ready().end());
    o.ready().clear();
    return out;
}

TEST(key_order, a_held_key_holds_back_its_later_records_and_hands_them_over_in_order) {
    key_order o(100);
    EXPECT_EQ(o.admit_new(1, "A"), admit::go);
    EXPECT_EQ(o.admit_new(2, "B"), admit::go);
    EXPECT_EQ(o.admit_new(3, "A"), admit::held_back);
    EXPECT_EQ(o.admit_new(4, "A"), admit::held_back);
    EXPECT_EQ(o.admit_new(5, ""), admit::go);   // no key: never waits
    EXPECT_EQ(o.held_back(), 2u);
    o.release(2);
    EXPECT_TRUE(o.ready().empty());
    o.release(1);
    EXPECT_EQ(take_ready(o), std::vector<std::uint64_t>{3});
    o.release(3);
    EXPECT_EQ(take_ready(o), std::vector<std::uint64_t>{4});
    o.release(4);
    EXPECT_EQ(o.keys(), 0u);
    EXPECT_EQ(o.held_back(), 0u);
    o.release(5);   // held no key: nothing happens
    o.release(99);
}

TEST(key_order, beyond_its_bound_a_record_is_neither_held_back_nor_let_go) {
    key_order o(1);
    EXPECT_EQ(o.admit_new(1, "A"), admit::go);
    EXPECT_EQ(o.admit_new(2, "A"), admit::held_back);
    EXPECT_EQ(o.admit_new(3, "A"), admit::full);
    EXPECT_EQ(o.admit_new(3, "B"), admit::go);   // a free key needs no room
}

TEST(key_order, trimming_drops_held_back_records_and_releases_ready_ones) {
    key_order o(100);
    o.admit_new(1, "A");
    o.admit_new(2, "A");
    o.admit_new(3, "A");
    o.admit_new(4, "B");
    o.admit_new(5, "B");
    o.release(4);               // 5 is ready
    o.trimmed_before(6);        // 2, 3 and 5 are gone; 1 is still held by its member
    EXPECT_TRUE(o.ready().empty());
    EXPECT_EQ(o.held_back(), 0u);
    EXPECT_EQ(o.keys(), 1u);
    o.release(1);
    EXPECT_EQ(o.keys(), 0u);
}

}  // namespace
}  // namespace zmesh::detail::streams
