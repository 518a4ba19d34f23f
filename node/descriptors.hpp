// SPDX-License-Identifier: MPL-2.0
// descriptors: the file descriptors a node needs for its peers, and the process limit on
// them. Each peer costs a node up to four: its link and its SUB connection to the peer, and
// the peer's link and SUB connection to it; call links add one each way to peers called.
// A common soft limit of 1024 would stop a node near 250 subscribed peers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace zmesh::detail {

// Descriptors a node holds besides its peers': sockets, pipes, epoll, libzmq's own.
inline constexpr std::uint64_t descriptors_of_a_node = 64;
inline constexpr std::uint64_t descriptors_per_peer = 4;

struct descriptor_limit {
    std::uint64_t before = 0;   // the soft limit found
    std::uint64_t now = 0;      // the soft limit now (the hard limit, when it could be raised)
};

// Raises this process's soft RLIMIT_NOFILE to its hard limit. Returns: the limits, or
// nothing when the kernel would not say. Process-wide, idempotent, any thread.
std::optional<descriptor_limit> raise_descriptor_limit() noexcept;

// Returns: one line saying `max_peers` needs more descriptors than `limit` allows, or
// nothing when they fit.
std::optional<std::string> descriptor_shortfall(std::size_t max_peers, std::uint64_t limit);

}  // namespace zmesh::detail
