// SPDX-License-Identifier: MPL-2.0
#include "gossip_queue.hpp"

#include <algorithm>
#include <cmath>

namespace zmesh::discovery::gossip {

void gossip_queue::push(const update& u, bool urgent) {
    erase(u.id);
    const rank at{!urgent, 0, next_order_++};
    queued_.emplace(u.id, entry{u, at, protocol::gossip_update_size(u)});
    order_.emplace(at, u.id);
}

void gossip_queue::erase(const node_id& id) {
    auto it = queued_.find(id);
    if (it == queued_.end()) return;
    order_.erase(it->second.at);
    queued_.erase(it);
}

std::vector<update> gossip_queue::take(std::size_t max, std::size_t limit, std::size_t room) {
    std::vector<node_id> chosen;
    for (auto it = order_.begin(); it != order_.end() && chosen.size() < max; ++it) {
        const auto size = queued_.at(it->second).size;
        if (size > room) continue;
        room -= size;
        chosen.push_back(it->second);
    }
    std::vector<update> out;
    out.reserve(chosen.size());
    // Re-ranked after the walk: moving an entry while walking would visit it twice.
    for (const auto& id : chosen) {
        auto& e = queued_.at(id);
        out.push_back(e.news);
        order_.erase(e.at);
        if (++e.at.sent >= limit) {
            queued_.erase(id);
            continue;
        }
        order_.emplace(e.at, id);
    }
    return out;
}

std::size_t retransmit_limit(std::size_t mult, std::size_t members) {
    const auto rounds = static_cast<std::size_t>(std::ceil(std::log10(static_cast<double>(members) + 1.0)));
    return mult * std::max<std::size_t>(1, rounds);
}

}  // namespace zmesh::discovery::gossip
