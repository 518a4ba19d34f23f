// SPDX-License-Identifier: MPL-2.0
// part_blocks: each copy holds its own bytes, as long as anyone holds it, and blocks are
// shared by many parts but never overfilled.
#include "node/part_blocks.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace zmesh::detail {
namespace {

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t first) {
    std::vector<std::uint8_t> v(size);
    std::iota(v.begin(), v.end(), first);
    return v;
}

TEST(part_blocks, copies_are_equal_to_their_parts_and_do_not_overlap) {
    part_blocks blocks;
    std::vector<std::vector<std::uint8_t>> parts;
    std::vector<std::pair<std::shared_ptr<const void>, std::span<const std::uint8_t>>> copies;
    for (std::size_t i = 0; i < 200; ++i) {   // several blocks' worth
        parts.push_back(pattern(i % 7 == 0 ? part_blocks::max_part : i % 97, static_cast<std::uint8_t>(i)));
        copies.push_back(blocks.copy(parts.back()));
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
        ASSERT_EQ(copies[i].second.size(), parts[i].size()) << i;
        EXPECT_TRUE(std::equal(parts[i].begin(), parts[i].end(), copies[i].second.begin())) << i;
        EXPECT_NE(copies[i].second.data(), parts[i].data()) << "not a copy: " << i;
    }
}

TEST(part_blocks, a_block_is_shared_until_full_then_a_new_one_starts) {
    part_blocks blocks;
    const auto part = pattern(part_blocks::max_part, 1);
    constexpr auto per_block = part_blocks::block_size / part_blocks::max_part;
    std::vector<std::pair<std::shared_ptr<const void>, std::span<const std::uint8_t>>> copies;
    for (std::size_t i = 0; i <= per_block; ++i) copies.push_back(blocks.copy(part));
    const auto same_owner = [](const auto& x, const auto& y) {
        return !x.first.owner_before(y.first) && !y.first.owner_before(x.first);
    };
    for (std::size_t i = 1; i < per_block; ++i) {
        EXPECT_EQ(copies[i].second.data(), copies[i - 1].second.data() + part.size()) << i;
        EXPECT_TRUE(same_owner(copies[i], copies[0])) << i;
    }
    EXPECT_FALSE(same_owner(copies[per_block], copies[0]));   // full: the next block
}

TEST(part_blocks, a_copy_outlives_the_blocks_and_every_other_copy) {
    std::pair<std::shared_ptr<const void>, std::span<const std::uint8_t>> kept;
    const auto part = pattern(100, 42);
    {
        part_blocks blocks;
        auto other = blocks.copy(pattern(50, 0));
        kept = blocks.copy(part);
    }   // the blocks and the other copy are gone; under ASan a dangling read would be caught
    EXPECT_TRUE(std::equal(part.begin(), part.end(), kept.second.begin()));
}

TEST(part_blocks, an_empty_part_is_an_empty_copy) {
    part_blocks blocks;
    const auto c = blocks.copy({});
    EXPECT_TRUE(c.second.empty());
    EXPECT_TRUE(c.first);
}

}  // namespace
}  // namespace zmesh::detail
