// SPDX-License-Identifier: MPL-2.0
// tune_malloc: blocks up to 160 bytes are then freed into glibc's lock-free fast bins.
#include <zmesh/tuning.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
// Returns: the blocks glibc holds in the fast bins of all arenas. mallinfo2 allocates
// nothing (a large allocation would merge the fast bins' blocks away).
std::size_t fast_bin_blocks() { return mallinfo2().smblks; }

// Allocates `n` blocks of `bytes` and frees them all. Returns: how many more blocks the fast
// bins hold afterwards (the per-thread cache takes the first 7 of a size first).
std::size_t fast_after_freeing(std::size_t n, std::size_t bytes) {
    std::vector<void*> blocks;
    blocks.reserve(n);
    const auto before = fast_bin_blocks();
    for (std::size_t i = 0; i < n; ++i) blocks.push_back(std::malloc(bytes));
    for (auto* b : blocks) std::free(b);
    const auto after = fast_bin_blocks();
    return after > before ? after - before : 0;
}
#endif

TEST(tune_malloc, frees_blocks_up_to_160_bytes_into_the_fast_bins) {
#if !defined(__GLIBC__) || defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "glibc's own allocator only";
#else
    // 136 requested bytes are a 144-byte block: past glibc's default limit of 128.
    EXPECT_EQ(fast_after_freeing(32, 136), 0u);
    ASSERT_TRUE(zmesh::tune_malloc());
    EXPECT_GE(fast_after_freeing(32, 136), 32u - 7u);
    // Past 160 (a 176-byte block) nothing changes.
    EXPECT_EQ(fast_after_freeing(32, 168), 0u);
#endif
}

}  // namespace
