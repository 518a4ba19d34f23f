// SPDX-License-Identifier: MPL-2.0
// published_prefixes: the prefixes of the topics a node publishes, as its gossip meta lists
// them (PROTOCOL.md §16.4) — those declared (options::publishes) and, for each topic not
// under one, the topic up to its first '.' (all of it without one). Past
// max_published_prefixes none are listed: the node may then publish anything, and every
// subscriber links it. Pure state.
#pragma once

#include "protocol/member_meta.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace zmesh::detail {

class published_prefixes {
public:
    explicit published_prefixes(const std::vector<std::string>& declared) : prefixes_(declared.begin(), declared.end()) {}

    // A topic is published for the first time. Returns: whether the list changed.
    bool note(std::string_view topic) {
        if (too_many_) return false;
        for (const auto& p : prefixes_)
            if (topic.starts_with(p)) return false;
        if (prefixes_.size() == protocol::max_published_prefixes) {
            too_many_ = true;
            prefixes_.clear();
            return true;
        }
        const auto dot = topic.find('.');
        prefixes_.emplace(dot == std::string_view::npos ? topic : topic.substr(0, dot + 1));
        return true;
    }

    // Returns: the prefixes, sorted; none when there were too many to list.
    std::optional<std::vector<std::string>> list() const {
        if (too_many_) return std::nullopt;
        return std::vector<std::string>(prefixes_.begin(), prefixes_.end());
    }

private:
    std::set<std::string, std::less<>> prefixes_;
    bool too_many_ = false;
};

}  // namespace zmesh::detail
