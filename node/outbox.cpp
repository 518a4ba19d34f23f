// SPDX-License-Identifier: MPL-2.0
// outbox: batches to the delivery thread.
#include "outbox.hpp"

namespace zmesh::detail {

void outbox::flush() {
    if (!completions_.empty()) {
        hand_over_(call_batch{std::move(completions_)});
        completions_ = {};
    }
    if (events_.empty()) return;
    counters_.pending_events.fetch_add(static_cast<std::int64_t>(events_.size()), std::memory_order_release);
    hand_over_(event_batch{std::move(events_)});
    events_ = {};
    events_.reserve(64);   // a full batch grown 1, 2, 4... would take many allocations
}

}  // namespace zmesh::detail
