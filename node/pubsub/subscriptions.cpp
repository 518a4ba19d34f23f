// SPDX-License-Identifier: MPL-2.0
// subscriptions: the counts of each prefix, kept with every add and remove.
#include "subscriptions.hpp"

#include <algorithm>

namespace zmesh::detail {

bool subscriptions::any_prefix_of(const std::map<std::string, int, std::less<>>& prefixes, std::string_view topic) {
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const auto& p) { return topic.starts_with(p.first); });
}

bool subscriptions::meets(std::string_view published) const {
    return std::any_of(prefixes_.begin(), prefixes_.end(), [&](const auto& p) {
        return published.starts_with(p.first) || std::string_view(p.first).starts_with(published);
    });
}

bool subscriptions::add(subscription_id id, const std::string& prefix, run_on where, event_handler handler) {
    by_id_[id] = {prefix, where};
    if (where == run_on::reactor)
        reactor_.push_back({id, prefix, std::move(handler)});
    else
        ++thread_prefixes_[prefix];
    return prefixes_[prefix]++ == 0;
}

std::optional<subscriptions::removed> subscriptions::remove(subscription_id id) {
    const auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    removed r{std::move(it->second.prefix), it->second.where, false};
    by_id_.erase(it);
    if (r.where == run_on::reactor) {
        std::erase_if(reactor_, [&](const auto& s) { return s.id == id; });
    } else if (const auto t = thread_prefixes_.find(r.prefix); --t->second == 0) {
        thread_prefixes_.erase(t);
    }
    if (const auto p = prefixes_.find(r.prefix); --p->second == 0) {
        prefixes_.erase(p);
        r.last_of_prefix = true;
    }
    return r;
}

std::vector<std::string> subscriptions::prefixes() const {
    std::vector<std::string> out;
    for (const auto& [prefix, count] : prefixes_) out.push_back(prefix);
    return out;
}

}  // namespace zmesh::detail
