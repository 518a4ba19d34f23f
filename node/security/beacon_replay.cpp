// SPDX-License-Identifier: MPL-2.0
// beacon_replay: the freshness rule for signed beacons.
#include "beacon_replay.hpp"

namespace zmesh::detail {

bool beacon_replay::fresh(const protocol::node_id& id, std::uint64_t sent_us, std::uint64_t wall_us,
                          clock::time_point now) {
    const auto skew_us = static_cast<std::uint64_t>(max_skew.count()) * 1000;
    if (newest_.size() >= max_ids_) newest_.clear();
    auto [it, first] = newest_.try_emplace(id);
    auto& last = it->second;
    const bool stale = sent_us + skew_us < wall_us || sent_us > wall_us + skew_us;
    const bool older = !first && sent_us < last.sent_us;
    const bool late_copy = !first && sent_us == last.sent_us && now - last.first_seen > copy_window;
    if (stale || older || late_copy) {
        if (first) newest_.erase(it);
        return false;
    }
    if (first || sent_us > last.sent_us) last = {sent_us, now};
    return true;
}

}  // namespace zmesh::detail
