// SPDX-License-Identifier: MPL-2.0
// distinct_stats: a node_stats whose every counter holds a value no other holds, and the
// (name, value) pairs each output of the counters must then carry.
#pragma once

#include <zmesh/stats.hpp>

#include <string>
#include <utility>
#include <vector>

namespace zmesh::test {

inline constexpr std::uint64_t first_distinct_value = 1000;

// Returns: stats whose counter at place i of node_counters holds first_distinct_value + i.
inline node_stats distinct_stats() {
    node_stats s;
    std::uint64_t value = first_distinct_value;
    for (const auto& c : node_counters) s.*c.field = value++;
    return s;
}

// Returns: every counter of distinct_stats() as (name, value), in list order; written from
// the list, not from counters_of, so that a test of counters_of checks something.
inline std::vector<std::pair<std::string, std::uint64_t>> distinct_pairs() {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    std::uint64_t value = first_distinct_value;
    for (const auto& c : node_counters) out.emplace_back(c.name, value++);
    return out;
}

}  // namespace zmesh::test
