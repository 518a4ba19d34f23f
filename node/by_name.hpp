// SPDX-License-Identifier: MPL-2.0
// by_name: a std::map keyed by name whose find remembers its last hit. The reactor looks a
// method up once per call it makes (its providers) and once per request it serves (its
// handler), nearly always the method of the call before: one comparison with that name
// spares the walk down the tree.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace zmesh::detail {

template <class T>
class by_name {
    using map_type = std::map<std::string, T, std::less<>>;

public:
    using iterator = typename map_type::iterator;
    using const_iterator = typename map_type::const_iterator;

    by_name() = default;
    // The remembered hit points into this map: a copy or a move would point into another.
    by_name(const by_name&) = delete;
    by_name& operator=(const by_name&) = delete;

    iterator find(std::string_view name) {
        if (last_ != map_.end() && last_->first == name) return last_;
        const auto it = map_.find(name);
        if (it != map_.end()) last_ = it;
        return it;
    }
    // Inserting leaves every iterator valid, the remembered one too.
    T& operator[](const std::string& name) { return map_[name]; }
    template <class... Args>
    std::pair<iterator, bool> emplace(Args&&... args) {
        return map_.emplace(std::forward<Args>(args)...);
    }
    // Returns: how many were erased (0 or 1).
    std::size_t erase(std::string_view name) {
        const auto it = map_.find(name);
        if (it == map_.end()) return 0;
        if (it == last_) last_ = map_.end();
        map_.erase(it);
        return 1;
    }
    void clear() noexcept {
        map_.clear();
        last_ = map_.end();
    }

    std::size_t size() const noexcept { return map_.size(); }
    iterator end() noexcept { return map_.end(); }
    const_iterator begin() const noexcept { return map_.begin(); }
    const_iterator end() const noexcept { return map_.end(); }

private:
    map_type map_;
    iterator last_ = map_.end();   // the last hit, or end()
};

}  // namespace zmesh::detail
