// SPDX-License-Identifier: MPL-2.0
// skip_msgpack: the hand-written walk gives the answer msgpack-cxx's own parser gives (the
// reference below, what skip_msgpack used to be) on every tag, on nesting at the depth
// limits, and on many thousands of random and damaged inputs; and it never allocates.
// Its own binary: it counts every operator new of this process.
#include "msgpack_reference.hpp"
#include "protocol/msgpack_io.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

// GCC takes free() after operator new for a mismatch: here both are ours, malloc underneath.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

using namespace zmesh::protocol;
using zmesh::test::reference_skip;
using bytes = std::vector<std::uint8_t>;

namespace {

std::string describe(const result<std::size_t>& r) {
    return r ? "offset " + std::to_string(*r) : std::string(to_string(r.error()));
}

std::string hex(const bytes& b) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (const auto c : b) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

std::string describe(const std::optional<errc>& e) { return e ? std::string(to_string(*e)) : "whole"; }

// Expects skip_msgpack and the reference to agree on `b` for a few counts and depths, and
// check_msgpack (its inline part for one short str or bin, else the walk) to say `b` is
// whole exactly when the reference's objects end at its end.
void expect_agree(const bytes& b) {
    for (const std::size_t count : {1, 2, 3})
        for (const std::size_t depth : {1, 2, 8, 64}) {
            const auto ours = skip_msgpack(b, count, depth);
            const auto theirs = reference_skip(b, count, depth);
            ASSERT_EQ(describe(ours), describe(theirs))
                << "input " << hex(b) << ", count " << count << ", max depth " << depth;
            const std::optional<errc> whole = !theirs                ? std::optional(theirs.error())
                                              : *theirs != b.size() ? std::optional(errc::bad_msgpack)
                                                                    : std::nullopt;
            ASSERT_EQ(describe(check_msgpack(b, count, depth)), describe(whole))
                << "check of " << hex(b) << ", count " << count << ", max depth " << depth;
        }
}

// Packs a random object: scalars of every format, strings, bins, exts, arrays and maps
// nested up to `depth_left` deep.
void pack_random(msgpack::packer<msgpack::sbuffer>& pk, std::mt19937& rng, int depth_left) {
    std::uniform_int_distribution<int> kind(0, depth_left > 0 ? 13 : 11);
    std::uniform_int_distribution<int> small(0, 40);
    switch (kind(rng)) {
    case 0: pk.pack_nil(); break;
    case 1: pk.pack(rng() % 2 == 0); break;
    case 2: pk.pack(static_cast<std::uint64_t>(rng()) << (rng() % 33)); break;
    case 3: pk.pack(-static_cast<std::int64_t>(rng() >> (rng() % 32))); break;
    case 4: pk.pack(static_cast<float>(rng()) / 7.0f); break;
    case 5: pk.pack(static_cast<double>(rng()) / 3.0); break;
    case 6: pk.pack(std::string(static_cast<std::size_t>(small(rng)), 's')); break;
    case 7: pk.pack(std::string(static_cast<std::size_t>(small(rng)) * 9, 'l')); break;
    case 8: {
        const bytes bin(static_cast<std::size_t>(small(rng)) * (rng() % 2 ? 1 : 9), 0xb1);
        pk.pack_bin(static_cast<std::uint32_t>(bin.size()));
        pk.pack_bin_body(reinterpret_cast<const char*>(bin.data()), static_cast<std::uint32_t>(bin.size()));
        break;
    }
    case 9:
    case 10: {   // fixext (sizes 1, 2, 4, 8, 16) and ext 8/16
        static const std::uint32_t sizes[] = {1, 2, 4, 8, 16, 0, 3, 300};
        const auto n = sizes[rng() % 8];
        const std::string data(n, 'e');
        pk.pack_ext(n, static_cast<std::int8_t>(rng() % 100));
        pk.pack_ext_body(data.data(), n);
        break;
    }
    case 11: pk.pack(static_cast<std::uint8_t>(rng() % 128)); break;
    case 12: {
        const auto n = static_cast<std::uint32_t>(rng() % 5 == 0 ? 20 : rng() % 4);
        pk.pack_array(n);
        for (std::uint32_t i = 0; i < n; ++i) pack_random(pk, rng, depth_left - 1);
        break;
    }
    default: {
        const auto n = static_cast<std::uint32_t>(rng() % 5 == 0 ? 17 : rng() % 3);
        pk.pack_map(n);
        for (std::uint32_t i = 0; i < 2 * n; ++i) pack_random(pk, rng, depth_left - 1);
        break;
    }
    }
}

bytes random_object(std::mt19937& rng, int depth) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pack_random(pk, rng, depth);
    const auto* p = reinterpret_cast<const std::uint8_t*>(buf.data());
    return bytes(p, p + buf.size());
}

TEST(skip_msgpack, every_tag_agrees_with_msgpack_cxx_alone_and_followed_by_bytes) {
    for (int tag = 0; tag < 256; ++tag) {
        bytes b{static_cast<std::uint8_t>(tag)};
        expect_agree(b);
        // Length fields of every width, small and huge, then some content.
        for (const bytes& tail : {bytes{0x00}, bytes{0x01, 0x02}, bytes{0x00, 0x03, 'a', 'b', 'c'},
                                  bytes{0xff, 0xff, 0xff, 0xff}, bytes(20, 0x01), bytes(20, 0x91)}) {
            bytes c = b;
            c.insert(c.end(), tail.begin(), tail.end());
            expect_agree(c);
            if (HasFatalFailure()) return;
        }
    }
}

TEST(skip_msgpack, nesting_is_allowed_up_to_the_depth_and_oversized_past_it) {
    for (const std::size_t depth : {1, 7, 8, 9, 63, 64, 65, 200}) {
        bytes arrays(depth, 0x91);   // each holds the next
        arrays.push_back(0x01);
        expect_agree(arrays);
        bytes empties(depth, 0x91);   // the innermost is empty: it counts as a level too
        empties.back() = 0x90;
        expect_agree(empties);
        bytes maps;
        for (std::size_t i = 0; i < depth; ++i) maps.insert(maps.end(), {0x81, 0x01});
        maps.push_back(0xc0);
        expect_agree(maps);
        if (HasFatalFailure()) return;
    }
    const auto within = skip_msgpack(bytes{0x91, 0x91, 0x01}, 1, 2);
    ASSERT_TRUE(within);
    EXPECT_EQ(*within, 3u);
    EXPECT_EQ(skip_msgpack(bytes{0x91, 0x91, 0x01}, 1, 1).error(), errc::oversized);
    // A depth above the most it supports is that most.
    bytes deep(max_skip_depth + 1, 0x91);
    deep.push_back(0x01);
    EXPECT_EQ(skip_msgpack(deep, 1, 1000).error(), errc::oversized);
}

TEST(skip_msgpack, random_objects_whole_cut_and_damaged_agree_with_msgpack_cxx) {
    std::mt19937 rng(20261123);
    for (int i = 0; i < 3000; ++i) {
        bytes b = random_object(rng, 1 + i % 6);
        if (i % 3 == 0) {   // two objects back to back, for counts above one
            const auto more = random_object(rng, 3);
            b.insert(b.end(), more.begin(), more.end());
        }
        expect_agree(b);
        // Every cut of short ones, a few of long ones.
        for (std::size_t cut = 0; cut < b.size(); cut += b.size() < 64 ? 1 : 1 + rng() % 16)
            expect_agree(bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(cut)));
        // Bytes overwritten at random: lengths and counts that lie, reserved tags.
        for (int k = 0; k < 4 && !b.empty(); ++k) {
            bytes d = b;
            d[rng() % d.size()] = static_cast<std::uint8_t>(rng());
            expect_agree(d);
        }
        if (HasFatalFailure()) return;
    }
}

TEST(skip_msgpack, random_bytes_agree_with_msgpack_cxx) {
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        bytes b(rng() % 24);
        for (auto& c : b) c = static_cast<std::uint8_t>(rng());
        expect_agree(b);
        if (HasFatalFailure()) return;
    }
}

TEST(skip_msgpack, never_allocates) {
    std::mt19937 rng(3);
    std::vector<bytes> inputs;
    for (int i = 0; i < 200; ++i) inputs.push_back(random_object(rng, 5));
    inputs.push_back(bytes(64, 0x91));   // deep, and truncated
    const auto before = allocations.load();
    std::size_t ok = 0;
    for (const auto& b : inputs) {
        if (skip_msgpack(b, 1)) ++ok;
        if (!check_msgpack(b)) ++ok;
    }
    EXPECT_EQ(allocations.load(), before);
    EXPECT_EQ(ok, 400u);   // every random object was whole, and the deep one was not
}

}  // namespace
