// SPDX-License-Identifier: MPL-2.0
// metrics: a mesh as the Prometheus text format (exposition format 0.0.4) — every counter
// each member reports (STATS) as a `_total` counter, and each member's state, round trip,
// silence, served methods and subscribed prefixes as gauges, labelled by mesh, node and id.
#pragma once

#include <zmesh/node.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace zmesh::monitor {

// Returns: `value` escaped for a label value (backslash, double quote and newline).
std::string escape_label(std::string_view value);

// Returns: the exposition of `peers` (what the monitor sees of `mesh`): families in a fixed
// order, each with its HELP and TYPE once. A member that has not reported yet has gauges and
// no counters.
std::string prometheus_text(const std::string& mesh, const std::vector<peer_info>& peers);

}  // namespace zmesh::monitor
