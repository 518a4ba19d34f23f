// SPDX-License-Identifier: MPL-2.0
// key_order: keys held, records held back behind them, and their hand-over.
#include "key_order.hpp"

#include <vector>

namespace zmesh::detail::streams {

key_order::admit key_order::admit_new(std::uint64_t seq, std::string_view key) {
    if (key.empty()) return admit::go;
    std::string k(key);
    if (!holder_.contains(k)) {
        holder_.emplace(k, seq);
        key_of_.emplace(seq, std::move(k));
        return admit::go;
    }
    if (held_back_ >= max_held_back_) return admit::full;
    waiting_[std::move(k)].push_back(seq);
    ++held_back_;
    return admit::held_back;
}

void key_order::release(std::uint64_t seq) {
    const auto it = key_of_.find(seq);
    if (it == key_of_.end()) return;
    auto key = std::move(it->second);
    key_of_.erase(it);
    ready_.erase(seq);
    const auto w = waiting_.find(key);
    if (w == waiting_.end()) {
        holder_.erase(key);
        return;
    }
    const auto next = w->second.front();
    w->second.pop_front();
    --held_back_;
    if (w->second.empty()) waiting_.erase(w);
    holder_[key] = next;
    key_of_.emplace(next, std::move(key));
    ready_.insert(next);
}

void key_order::trimmed_before(std::uint64_t first_kept) {
    // Each key's waiting records rise, so the gone ones are at the front.
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        auto& q = it->second;
        while (!q.empty() && q.front() < first_kept) {
            q.pop_front();
            --held_back_;
        }
        it = q.empty() ? waiting_.erase(it) : std::next(it);
    }
    // Released one at a time: a release may make another record ready, never a gone one.
    while (!ready_.empty() && *ready_.begin() < first_kept) release(*ready_.begin());
}

}  // namespace zmesh::detail::streams
