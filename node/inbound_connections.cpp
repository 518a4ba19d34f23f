// SPDX-License-Identifier: MPL-2.0
// inbound_connections: the bookkeeping of accepted connections, and the subscription bounds.
#include "inbound_connections.hpp"

namespace zmesh::detail {

inbound_connections::connection& inbound_connections::at(listener where, int fd) {
    auto [it, added] = by_fd_.try_emplace(fd);
    if (added) it->second.where = where;
    return it->second;
}

void inbound_connections::forget(std::unordered_map<int, connection>::iterator it) {
    total_bytes_ -= it->second.bytes;
    by_fd_.erase(it);
}

void inbound_connections::accepted(listener where, int fd) {
    if (const auto it = by_fd_.find(fd); it != by_fd_.end()) forget(it);
    at(where, fd);
}

void inbound_connections::closed(int fd) {
    if (const auto it = by_fd_.find(fd); it != by_fd_.end()) forget(it);
}

inbound_connections::verdict inbound_connections::subscribe(int fd, std::string_view prefix) {
    auto& c = at(listener::pub, fd);
    if (c.cut) return verdict::refused;
    if (c.prefixes.find(prefix) != c.prefixes.end()) return verdict::repeated;
    if (prefix.size() > limits_.max_prefix || c.prefixes.size() >= limits_.max_per_connection ||
        c.bytes + prefix.size() > limits_.max_bytes_per_connection ||
        total_bytes_ + prefix.size() > limits_.max_bytes_total) {
        c.cut = true;
        return verdict::refused;
    }
    c.prefixes.emplace(prefix);
    c.bytes += prefix.size();
    total_bytes_ += prefix.size();
    return verdict::applied;
}

void inbound_connections::unsubscribe(int fd, std::string_view prefix) {
    const auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) return;
    auto& c = it->second;
    if (const auto p = c.prefixes.find(prefix); p != c.prefixes.end()) {
        c.bytes -= p->size();
        total_bytes_ -= p->size();
        c.prefixes.erase(p);
    }
}

void inbound_connections::keyed(listener where, int fd, const curve_key& key) {
    at(where, fd).key = key;
}

std::vector<std::pair<listener, int>> inbound_connections::keyed_unless(
    const std::function<bool(const curve_key&)>& allowed) const {
    std::vector<std::pair<listener, int>> out;
    for (const auto& [fd, c] : by_fd_)
        if (c.key && !allowed(*c.key)) out.emplace_back(c.where, fd);
    return out;
}

void inbound_connections::cutting(int fd) {
    if (const auto it = by_fd_.find(fd); it != by_fd_.end()) it->second.cut = true;
}

const std::set<std::string, std::less<>>* inbound_connections::prefixes_of(int fd) const {
    const auto it = by_fd_.find(fd);
    return it == by_fd_.end() ? nullptr : &it->second.prefixes;
}

}  // namespace zmesh::detail
