// SPDX-License-Identifier: MPL-2.0
// Process-wide settings that make a node faster. They change the whole process, so the
// library never applies them by itself: main() calls them, first, before any thread starts.
#pragma once

namespace zmesh {

// Lets glibc's malloc free blocks of up to 160 bytes (the most it allows) without taking
// its arena lock, instead of up to 128.
//
// Why: a node builds each frame it sends on its reactor thread, and libzmq's I/O thread
// frees it once written. glibc takes a lock to free another thread's block, unless the
// block is small enough for its lock-free "fast" bins; otherwise the two threads contend for
// that lock, and each contended malloc or free is a futex system call. A 64 B RPC request
// with its header is a 144 B block, just past the default limit (a bare 64 B message, as
// raw libzmq sends, is within it); so the limit raised spares every such free its lock.
//
// Returns: whether it applied (false where the C library is not glibc).
bool tune_malloc() noexcept;

}  // namespace zmesh
