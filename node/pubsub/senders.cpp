// SPDX-License-Identifier: MPL-2.0
// senders: per-sender sequences, gaps and events held in handshake.
#include "senders.hpp"

#include <utility>

namespace zmesh::detail {

senders::sender* senders::find(const protocol::node_id& id) {
    const auto it = senders_.find(id);
    return it == senders_.end() ? nullptr : &it->second;
}

void senders::dialled(const protocol::node_id& id, const std::string& name) {
    auto& s = senders_[id];
    s.name = name;
    s.joined = false;
}

void senders::named(const protocol::node_id& id, const std::string& name) { senders_[id].name = name; }

std::vector<zmq::message_t> senders::joined(const protocol::node_id& id) {
    auto* s = find(id);
    if (!s) return {};
    s->joined = true;
    s->early_bytes = 0;
    return std::exchange(s->early, {});
}

bool senders::hold(sender& s, zmq::message_t&& frame) {
    if (s.early.size() >= max_early_events || s.early_bytes + frame.size() > max_early_bytes) return false;
    s.early_bytes += frame.size();
    s.early.push_back(std::move(frame));
    return true;
}

std::uint64_t senders::take(sender& s, std::string_view topic, std::uint64_t seq) {
    bool first = false;
    auto& last = s.last_seq.at(topic, first);
    const std::uint64_t missed = !first && seq > last + 1 ? seq - last - 1 : 0;
    last = seq;
    s.seen.gaps += missed;
    ++s.seen.events_in;
    return missed;
}

std::size_t senders::drop_early(const protocol::node_id& id) {
    auto* s = find(id);
    if (!s) return 0;
    const auto dropped = s->early.size();
    s->early.clear();
    s->early_bytes = 0;
    return dropped;
}

senders::figures senders::of(const protocol::node_id& id) const {
    const auto it = senders_.find(id);
    return it == senders_.end() ? figures{} : it->second.seen;
}

}  // namespace zmesh::detail
