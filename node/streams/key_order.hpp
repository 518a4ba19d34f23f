// SPDX-License-Identifier: MPL-2.0
// key_order: per-key ordering for a consumer group that asked for it — which of its records
// must wait because an earlier record of the same key is still unsettled. A key is held by
// one record at a time, from its first hand-out until it is done (acked, termed, a dead
// letter, or trimmed away); a record whose key is held is held back, and becomes ready, in
// sequence order, when the key comes free. Records of other keys pass it: one slow key
// blocks only itself. An empty key is no key: never held, never held back.
//
// Keys are tracked only while a record holds or waits for them, so a stream of many distinct
// keys costs memory for what is unsettled, not for every key seen. Pure state, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace zmesh::detail::streams {

class key_order {
public:
    // `max_held_back`: records held back at most, across keys; beyond it new records are not
    // taken at all (they wait in the log) rather than tracked here.
    explicit key_order(std::size_t max_held_back) : max_held_back_(max_held_back) {}

    enum class admit {
        go,          // its key is free (now held by it), or it has none: hand it out
        held_back,   // an earlier record holds its key: it is ready when that one is done
        full,        // it would be held back, and max_held_back are already: take it later
    };
    // A record never handed out before, in rising `seq` order.
    admit admit_new(std::uint64_t seq, std::string_view key);
    // `seq` is done: its key goes to the next record held back for it (which is then ready),
    // or is forgotten. Nothing happens for a record that holds no key.
    void release(std::uint64_t seq);
    // Records whose key came free for them, lowest first: the caller hands them out (they
    // keep their key) and erases them from here.
    std::set<std::uint64_t>& ready() noexcept { return ready_; }
    // The log's records before `first_kept` are gone: those held back are dropped, those
    // ready are released.
    void trimmed_before(std::uint64_t first_kept);

    std::size_t keys() const noexcept { return holder_.size(); }
    std::size_t held_back() const noexcept { return held_back_; }

private:
    std::size_t max_held_back_;
    std::unordered_map<std::string, std::uint64_t> holder_;        // key -> the record holding it
    std::unordered_map<std::uint64_t, std::string> key_of_;        // holding record -> its key
    std::unordered_map<std::string, std::deque<std::uint64_t>> waiting_;   // key -> held back, in order
    std::set<std::uint64_t> ready_;
    std::size_t held_back_ = 0;
};

}  // namespace zmesh::detail::streams
