// SPDX-License-Identifier: MPL-2.0
// senders: which publishers zmesh sub heard from have left.
#include "senders.hpp"

namespace zmesh::cli {

void senders::event_from(const node_id& id, std::chrono::steady_clock::time_point now) {
    left_.try_emplace(id, false);
    handling_ = true;
    last_ = now;
}

void senders::event_done(std::chrono::steady_clock::time_point now) {
    handling_ = false;
    last_ = now;
}

void senders::peer(const node_id& id, peer_event_kind kind, std::chrono::steady_clock::time_point now) {
    if (kind != peer_event_kind::left && kind != peer_event_kind::joined) return;   // evasive: still there
    const auto it = left_.find(id);
    const bool left = kind == peer_event_kind::left;
    if (it == left_.end() || it->second == left) return;
    it->second = left;
    left ? ++gone_ : --gone_;
    if (left) last_ = now;
}

bool senders::all_left(std::chrono::steady_clock::time_point now) const {
    return !left_.empty() && !handling_ && gone_ == left_.size() && now - last_ >= grace_;
}

}  // namespace zmesh::cli
