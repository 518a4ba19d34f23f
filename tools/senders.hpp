// SPDX-License-Identifier: MPL-2.0
// senders: the publishers zmesh sub received events from, and when it may take it that no
// more will come: every one of them has left, and nothing came for a grace after.
#pragma once

#include <zmesh/node_id.hpp>
#include <zmesh/options.hpp>
#include <zmesh/peer.hpp>

#include <chrono>
#include <cstddef>
#include <map>

namespace zmesh::cli {

// Not thread-safe: the tool guards it (events and peer events come on the node's threads, the
// main thread asks). Time is passed in.
class senders {
public:
    // `grace`: how long nothing must come after the last sender left. Its LEAVE comes on
    // another socket than its events: those the SUB socket still held may come after it.
    explicit senders(milliseconds grace) : grace_(grace) {}

    // An event from `id` came at `now`, and is being handled until event_done(): `id` is a
    // sender from then on. A sender that left stays gone (its events still in flight come
    // after its LEAVE).
    void event_from(const node_id& id, std::chrono::steady_clock::time_point now);
    // The event told by event_from() was handled at `now`.
    void event_done(std::chrono::steady_clock::time_point now);
    // A peer event: a sender that left is gone, until it joins again (it had expired, and
    // came back); a peer that sent nothing is no sender.
    void peer(const node_id& id, peer_event_kind kind, std::chrono::steady_clock::time_point now);

    // Returns: true when there are senders, every one has left, no event is being handled,
    // and nothing (event or leave) came for the grace before `now`.
    bool all_left(std::chrono::steady_clock::time_point now) const;
    std::size_t count() const noexcept { return left_.size(); }

private:
    milliseconds grace_;
    std::map<node_id, bool> left_;   // every sender, and whether it has left
    std::size_t gone_ = 0;           // senders that have left
    bool handling_ = false;          // between event_from() and event_done()
    std::chrono::steady_clock::time_point last_{};   // the last event, or leave of a sender
};

}  // namespace zmesh::cli
