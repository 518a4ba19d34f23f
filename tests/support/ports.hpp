// SPDX-License-Identifier: MPL-2.0
// ports: free port numbers and unique names, so tests running side by side never collide.
#pragma once

#include <cstdint>
#include <string>

namespace zmesh::test {

// Returns: a port that was free for UDP (and TCP) on 127.0.0.1 a moment ago.
std::uint16_t free_port();

// Returns: a mesh id unique to this process and call, e.g. "t-4242-7".
std::string unique_mesh();

}  // namespace zmesh::test
