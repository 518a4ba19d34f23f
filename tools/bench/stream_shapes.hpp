// SPDX-License-Identifier: MPL-2.0
// stream_shapes: the end-to-end shapes of `zmesh-bench durable` that zmesh and JetStream both
// run — stored publishes one at a time and with a window outstanding, and the stored records
// consumed and acked by a group of two members — and their figures.
#pragma once

#include "bench.hpp"

#include <optional>
#include <string>

namespace zmesh::bench {

struct shape_work {
    std::uint64_t count = 0;        // records published with a window, then consumed
    std::uint64_t sync_count = 0;   // records published one at a time
    std::size_t size = 0;           // bytes of each record's payload
    std::size_t window = 256;       // publishes awaiting their "stored" at once
    std::size_t batch = 256;        // unsettled per member (zmesh max_in_flight; JetStream's fetch)
};

// Records (or deliveries acked) per second, one run.
struct shape_figures {
    double publish_sync = 0;
    double publish_async = 0;
    double group_acked = 0;
    nlohmann::json facts;           // what the run checked, for the report
};

// zmesh: a publisher node with a data directory (durability::os) and two member nodes of one
// consumer name, all in this process, over TCP loopback. Throws std::runtime_error when a
// record is not stored, or not acked exactly once.
shape_figures run_zmesh_shapes(const settings& s, const shape_work& w);

// Returns: why JetStream cannot be measured here (no nats-server on PATH, zmesh-bench built
// without libnats), or nullopt.
std::optional<std::string> jetstream_unavailable();
// JetStream: `nats-server -js` started for this run on a free port and a new store directory,
// which are gone when it returns (or throws); the shapes through the NATS C client.
shape_figures run_jetstream_shapes(const settings& s, const shape_work& w);

}  // namespace zmesh::bench
