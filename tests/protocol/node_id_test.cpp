// SPDX-License-Identifier: MPL-2.0
// node_id tests: random generation, byte and hex conversion, emptiness, order and hash.
#include "protocol/node_id.hpp"

#include <gtest/gtest.h>

#include <set>
#include <unordered_set>
#include <vector>

using zmesh::protocol::node_id;

namespace {
node_id::bytes_type counting_bytes() {
    node_id::bytes_type b;
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(0x10 + i);
    return b;
}
}  // namespace

TEST(node_id, default_is_empty) {
    EXPECT_TRUE(node_id{}.empty());
    EXPECT_EQ(node_id{}.hex(), std::string(32, '0'));
}

TEST(node_id, one_nonzero_byte_is_not_empty) {
    node_id::bytes_type b{};
    b[15] = 1;
    EXPECT_FALSE(node_id(b).empty());
    b[15] = 0;
    b[0] = 0x80;
    EXPECT_FALSE(node_id(b).empty());
}

TEST(node_id, random_ids_are_non_empty_and_distinct) {
    std::set<node_id> seen;
    for (int i = 0; i < 100; ++i) {
        const auto id = node_id::random();
        EXPECT_FALSE(id.empty());
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 100u);
}

TEST(node_id, random_ids_fill_every_byte) {
    // Across many ids each byte position must take some nonzero value: catches a generator
    // that leaves a tail of the array untouched.
    node_id::bytes_type any{};
    for (int i = 0; i < 64; ++i) {
        const auto id = node_id::random();
        for (std::size_t j = 0; j < node_id::size; ++j) any[j] |= id.bytes()[j];
    }
    for (std::size_t j = 0; j < node_id::size; ++j) EXPECT_NE(any[j], 0) << "byte " << j;
}

TEST(node_id, from_bytes_accepts_exactly_sixteen) {
    const auto b = counting_bytes();
    const auto id = node_id::from_bytes(b);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->bytes(), b);
}

TEST(node_id, from_bytes_rejects_other_lengths) {
    const std::vector<std::uint8_t> fifteen(15, 1), seventeen(17, 1), none;
    EXPECT_FALSE(node_id::from_bytes(fifteen));
    EXPECT_FALSE(node_id::from_bytes(seventeen));
    EXPECT_FALSE(node_id::from_bytes(none));
}

TEST(node_id, hex_is_32_lowercase_digits_in_byte_order) {
    const node_id id(counting_bytes());
    EXPECT_EQ(id.hex(), "101112131415161718191a1b1c1d1e1f");
    EXPECT_EQ(id.short_hex(), "10111213");
}

TEST(node_id, hex_round_trips) {
    for (int i = 0; i < 50; ++i) {
        const auto id = node_id::random();
        const auto back = node_id::from_hex(id.hex());
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, id);
    }
}

TEST(node_id, from_hex_accepts_uppercase) {
    const auto id = node_id::from_hex("101112131415161718191A1B1C1D1E1F");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->bytes(), counting_bytes());
}

TEST(node_id, from_hex_rejects_wrong_length) {
    EXPECT_FALSE(node_id::from_hex(""));
    EXPECT_FALSE(node_id::from_hex(std::string(31, 'a')));
    EXPECT_FALSE(node_id::from_hex(std::string(33, 'a')));
    EXPECT_FALSE(node_id::from_hex(std::string(16, 'a')));
}

TEST(node_id, from_hex_rejects_non_hex_digits) {
    std::string good(32, 'a');
    ASSERT_TRUE(node_id::from_hex(good));
    for (char bad : {'g', 'G', ' ', '-', 'x', '\0', '/', ':', '@', '`'}) {
        for (std::size_t pos : {0u, 1u, 31u}) {
            std::string s = good;
            s[pos] = bad;
            EXPECT_FALSE(node_id::from_hex(s)) << "char " << int(bad) << " at " << pos;
        }
    }
}

TEST(node_id, compares_by_bytes) {
    auto lo = counting_bytes(), hi = counting_bytes();
    hi[0] += 1;
    EXPECT_LT(node_id(lo), node_id(hi));
    EXPECT_NE(node_id(lo), node_id(hi));
    EXPECT_EQ(node_id(lo), node_id(counting_bytes()));
}

TEST(node_id, ids_differing_in_any_one_byte_or_bit_are_unequal) {
    const node_id base(counting_bytes());
    for (std::size_t i = 0; i < node_id::size; ++i)
        for (int bit = 0; bit < 8; ++bit) {
            auto b = counting_bytes();
            b[i] ^= static_cast<std::uint8_t>(1u << bit);
            EXPECT_NE(node_id(b), base) << "byte " << i << " bit " << bit;
            EXPECT_FALSE(node_id(b) == base) << "byte " << i << " bit " << bit;
        }
    EXPECT_TRUE(node_id(counting_bytes()) == base);
}

TEST(node_id, equal_ids_hash_equal_and_distinct_ids_spread) {
    const std::hash<node_id> h;
    EXPECT_EQ(h(node_id(counting_bytes())), h(node_id(counting_bytes())));
    std::unordered_set<std::size_t> hashes;
    for (int i = 0; i < 100; ++i) hashes.insert(h(node_id::random()));
    EXPECT_GT(hashes.size(), 95u);
}

TEST(node_id, works_as_unordered_key) {
    std::unordered_set<node_id> ids;
    const auto a = node_id::random(), b = node_id::random();
    ids.insert(a);
    ids.insert(b);
    ids.insert(a);
    EXPECT_EQ(ids.size(), 2u);
    EXPECT_TRUE(ids.count(b));
}
