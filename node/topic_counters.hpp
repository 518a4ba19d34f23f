// SPDX-License-Identifier: MPL-2.0
// topic_counters: a number per topic (the last seq published or received on it), with the
// last topic's kept at hand. Publishers and subscribers mostly repeat one topic, and hashing
// it for every event cost more than the rest of the per-event bookkeeping together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace zmesh::detail {

class topic_counters {
public:
    // At most `limit` topics are remembered: past it the table starts again, empty.
    explicit topic_counters(std::size_t limit) : limit_(limit) {}

    // Returns: the counter of `topic`; a new one is 0 and sets `added`. Never throws but
    // std::bad_alloc.
    std::uint64_t& at(std::string_view topic, bool& added) {
        added = false;
        if (last_count_ && topic == last_topic_) return *last_count_;
        if (counts_.size() >= limit_ && !counts_.count(std::string(topic))) counts_.clear();
        last_topic_ = topic;
        // Elements of an unordered_map stay put when it rehashes: the pointer stays good
        // until the next clear, which is just above.
        const auto [it, inserted] = counts_.try_emplace(last_topic_, 0);
        added = inserted;
        last_count_ = &it->second;
        return it->second;
    }

    std::size_t size() const { return counts_.size(); }

    // Forgets the counter of every topic for which `pred(topic)` holds.
    template <class Pred>
    void forget_if(Pred pred) {
        std::erase_if(counts_, [&](const auto& kv) { return pred(std::string_view(kv.first)); });
        last_count_ = nullptr;   // it may have pointed into what went
    }

private:
    std::size_t limit_;
    std::unordered_map<std::string, std::uint64_t> counts_;
    std::string last_topic_;
    std::uint64_t* last_count_ = nullptr;
};

}  // namespace zmesh::detail
