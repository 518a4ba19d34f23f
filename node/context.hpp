// SPDX-License-Identifier: MPL-2.0
// context: what every component of a node's reactor shares — its options, its counters and
// its log, with a once-per-cause form for what strangers can make happen again and again.
// Owned by the reactor; components hold a reference, and use it on the reactor thread only.
#pragma once

#include "logger.hpp"
#include "protocol/node_id.hpp"

#include <zmesh/options.hpp>
#include <zmesh/stats.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_set>

namespace zmesh::detail {

// The most messages a component reads from one socket in one round: one busy socket must
// not starve the others and the timers.
inline constexpr int max_batch = 256;

// Returns: the system clock in µs since the Unix epoch (event and beacon timestamps).
inline std::uint64_t unix_now_us() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

class node_context {
public:
    node_context(const options& opts, const protocol::node_id& id, node_stats& stats)
        : opts(opts), id(id), stats(stats), log_(opts.name, opts.log, opts.log_to) {}

    const options& opts;
    const protocol::node_id& id;   // this node's
    node_stats& stats;

    // Returns: whether this node takes part in membership by gossip (an observer never does:
    // it watches, it is not a member to probe).
    bool gossips() const noexcept { return opts.gossip && !opts.observer; }

    void log(log_level level, const std::string& text) const { log_(level, text); }
    // Logs `text` the first time `what` happens (bounded: whatever strangers try, the set of
    // causes held is cleared past 1000). A line this node does not log takes no place.
    void warn_once(const std::string& what, log_level level, const std::string& text) {
        if (!log_.enabled(level)) return;
        if (warned_.size() > 1000) warned_.clear();
        if (warned_.insert(what).second) log(level, text);
    }
    // Forgets every cause logged: each is logged again the next time (the allowlist changed).
    void forget_warnings() { warned_.clear(); }

private:
    logger log_;
    std::unordered_set<std::string> warned_;
};

}  // namespace zmesh::detail
