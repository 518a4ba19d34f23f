// SPDX-License-Identifier: MPL-2.0
// outbox: what the reactor hands the delivery thread (events for handlers, call outcomes,
// peer events, handler-table changes), batched and in the order it happened: an outcome is
// handled after the events read before it, a peer event after both. One message on the
// inproc pipe carries a whole batch.
#pragma once

#include "command.hpp"

#include <functional>
#include <vector>

namespace zmesh::detail {

class outbox {
public:
    // `hand_over` sends one message to the delivery thread (the reactor: on its inproc
    // pipe). `counters`: their pending-events count grows by each batch of events.
    outbox(std::function<void(delivery&&)> hand_over, shared_counters& counters)
        : hand_over_(std::move(hand_over)), counters_(counters) {
        events_.reserve(64);
    }

    // Events for the handler threads, in order: appended here, handed over by flush().
    std::vector<event>& events() noexcept { return events_; }
    // A call's outcome, for its callback: after the events queued before it.
    void completion(call_completed c) {
        if (!events_.empty()) flush();
        completions_.push_back(std::move(c));
    }
    // Anything else, after everything queued before it.
    void send(delivery d) {
        flush();
        hand_over_(std::move(d));
    }
    // Hands over what is queued.
    void flush();

private:
    std::function<void(delivery&&)> hand_over_;
    shared_counters& counters_;
    std::vector<event> events_;
    std::vector<call_completed> completions_;   // always before events_, when both
};

}  // namespace zmesh::detail
