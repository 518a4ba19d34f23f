// SPDX-License-Identifier: MPL-2.0
// pending_calls: the calls awaiting a reply, by request id. A hash map of them costs a node
// allocation and two hashes per call; here a call lives in a reused slot and its id says
// which.
//
// An id is the slot's index in its low 32 bits and the slot's use count above them, so the
// id of a call that is over (timed out, failed, answered) finds nothing, even once its slot
// holds another call: a late or forged reply is a stray, never another call's answer.
//
// The slots stay at the most calls ever pending at once, but for a burst: past
// `keep_slots`, they are all freed once no call is pending, and slots made after that start
// their use counts above every count given before, so no old id finds a new call either.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace zmesh::detail {

template <class Call>
class pending_calls {
public:
    // Makes a call of `args` in place. Returns: the new call's id, never 0.
    template <class... Args>
    std::uint64_t add(Args&&... args) {
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = static_cast<std::uint32_t>(slots_.size());
            slots_.emplace_back().uses = uses_floor_;
        }
        auto& s = slots_[index];
        if (++s.uses == 0) s.uses = 1;   // no id is 0
        s.call.emplace(Call{std::forward<Args>(args)...});   // an aggregate: braces
        ++size_;
        return id_of(index, s.uses);
    }

    // Returns: the pending call of `id`, or null when there is none (over, or never was).
    Call* find(std::uint64_t id) {
        const auto index = static_cast<std::uint32_t>(id);
        if (index >= slots_.size()) return nullptr;
        auto& s = slots_[index];
        return s.call && s.uses == (id >> 32) ? &*s.call : nullptr;
    }

    // Removes the call of `id`, if it is pending (what the caller needs of it is moved out
    // first, through find). Returns: whether it was.
    bool erase(std::uint64_t id) {
        if (!find(id)) return false;
        const auto index = static_cast<std::uint32_t>(id);
        slots_[index].call.reset();
        free_.push_back(index);
        if (--size_ == 0 && slots_.size() > keep_slots) release_slots();
        return true;
    }

    std::size_t size() const noexcept { return size_; }
    // Returns: the slots held, pending or free.
    std::size_t slots() const noexcept { return slots_.size(); }

    // More slots than this are freed once no call is pending (the memory of a burst of
    // calls is given back; a steady caller's slots are kept warm).
    static constexpr std::size_t keep_slots = 1024;

    // Calls f(id, call) for every pending call. f must not add or erase.
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < slots_.size(); ++i)
            if (slots_[i].call) f(id_of(static_cast<std::uint32_t>(i), slots_[i].uses), *slots_[i].call);
    }

private:
    struct slot {
        std::uint32_t uses = 0;   // wraps after 4 billion calls in one slot
        std::optional<Call> call;
    };
    static std::uint64_t id_of(std::uint32_t index, std::uint32_t uses) {
        return (std::uint64_t{uses} << 32) | index;
    }
    void release_slots() {
        for (const auto& s : slots_) uses_floor_ = std::max(uses_floor_, s.uses);
        std::vector<slot>().swap(slots_);   // and their memory: clear() would keep it
        std::vector<std::uint32_t>().swap(free_);
    }

    std::vector<slot> slots_;
    std::vector<std::uint32_t> free_;   // last freed first: its memory is warm
    std::size_t size_ = 0;
    // Above every use count any released slot gave: where a new slot's count starts.
    std::uint32_t uses_floor_ = 0;
};

}  // namespace zmesh::detail
