// SPDX-License-Identifier: MPL-2.0
// command: what other threads ask of the reactor, and what the reactor hands the delivery
// thread. Each is one variant, handled by std::visit.
#pragma once

#include "node.hpp"

#include <future>
#include <variant>
#include <vector>

namespace zmesh::detail {

struct peers_query {
    std::promise<std::vector<peer_info>> reply;
};
struct stats_query {
    std::promise<node_stats> reply;
};
struct stop_command {};

using command = std::variant<peers_query, stats_query, stop_command>;

// The reactor's last delivery: everything before it has been handed over.
struct end_of_deliveries {};

using delivery = std::variant<peer_event, end_of_deliveries>;

}  // namespace zmesh::detail
