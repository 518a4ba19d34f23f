// SPDX-License-Identifier: MPL-2.0
// metrics: members and their counters in the Prometheus text format (exposition format
// 0.0.4): each counter a member reported (STATS) as a `_total` counter labelled by mesh,
// node and id, and each peer's state, round trip, silence, served methods (label method) and
// subscribed prefixes (label prefix) as this node sees them, as gauges labelled by mesh,
// peer and peer_id. node::metrics() is this node's own; options::metrics_endpoint serves it.
#pragma once

#include <zmesh/peer.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace zmesh {

// Returns: the exposition of `peers`, members of `mesh`: families in a fixed order, each
// with its HELP and TYPE once. A member that has not reported has gauges and no counters.
std::string prometheus_text(const std::string& mesh, const std::vector<peer_info>& peers);

// Returns: `value` escaped for a label value (backslash, double quote and newline).
std::string prometheus_label(std::string_view value);

}  // namespace zmesh
