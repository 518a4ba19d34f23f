// SPDX-License-Identifier: MPL-2.0
// descriptors: RLIMIT_NOFILE raised to the hard limit, and the check against max_peers.
#include "descriptors.hpp"

#include <sys/resource.h>

namespace zmesh::detail {

std::optional<descriptor_limit> raise_descriptor_limit() noexcept {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
    descriptor_limit out{limit.rlim_cur, limit.rlim_cur};
    if (limit.rlim_cur != limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) == 0) out.now = limit.rlim_max;
    }
    return out;
}

std::optional<std::string> descriptor_shortfall(std::size_t max_peers, std::uint64_t limit) {
    const auto needed = descriptors_of_a_node + descriptors_per_peer * max_peers;
    if (limit >= needed) return std::nullopt;
    const auto fits = limit > descriptors_of_a_node ? (limit - descriptors_of_a_node) / descriptors_per_peer : 0;
    return "max_peers " + std::to_string(max_peers) + " needs about " + std::to_string(needed) +
           " file descriptors (" + std::to_string(descriptors_per_peer) +
           " a peer), but this process may open only " + std::to_string(limit) +
           " (ulimit -Hn): about " + std::to_string(fits) +
           " peers fit; raise the hard limit or lower max_peers (--max-peers)";
}

}  // namespace zmesh::detail
