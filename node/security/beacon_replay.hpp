// SPDX-License-Identifier: MPL-2.0
// beacon_replay: which signed beacons are fresh. A captured beacon carries a valid MAC
// forever; what makes a replay detectable is its timestamp: one older than the newest seen
// from that id, one far off our clock, or a copy of the newest long after it first came
// (the same datagram arrives once per interface it was sent on, so a copy soon after is
// normal). Pure logic: times come in as arguments.
#pragma once

#include "protocol/node_id.hpp"

#include <chrono>
#include <cstdint>
#include <unordered_map>

namespace zmesh::detail {

class beacon_replay {
public:
    using clock = std::chrono::steady_clock;
    // A signed beacon older than this (by the receiver's clock) is a replay.
    static constexpr std::chrono::milliseconds max_skew{30000};
    // How long after the first copy of a beacon another copy is still taken.
    static constexpr std::chrono::milliseconds copy_window{1000};

    // `max_ids`: the ids remembered; past it the table restarts (bounded whatever strangers
    // send: a forgotten id's next beacon is taken as fresh if its time is).
    explicit beacon_replay(std::size_t max_ids) : max_ids_(max_ids) {}

    // Returns: whether the beacon of `id` signed at `sent_us` (µs since the Unix epoch) is
    // fresh, received at `wall_us` by the system clock and at `now`.
    bool fresh(const protocol::node_id& id, std::uint64_t sent_us, std::uint64_t wall_us,
               clock::time_point now);

private:
    struct seen {
        std::uint64_t sent_us = 0;   // newest beacon from this id
        clock::time_point first_seen;
    };
    std::size_t max_ids_;
    std::unordered_map<protocol::node_id, seen> newest_;
};

}  // namespace zmesh::detail
