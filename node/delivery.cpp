// SPDX-License-Identifier: MPL-2.0
// delivery: dispatch of peer events and events to the application's handlers.
#include "delivery.hpp"

#include <algorithm>
#include <iterator>

namespace zmesh::detail {

void delivery_queue::push(delivery d) {
    std::unique_lock lock(mutex_);
    queued_.push_back(std::move(d));
    if (!sleeping_) return;   // busy: it takes this with the rest when it is done
    sleeping_ = false;
    lock.unlock();   // or the thread woken would wait for this lock at once
    ready_.notify_one();
}

void delivery_queue::take_all(std::vector<delivery>& out) {
    std::unique_lock lock(mutex_);
    while (queued_.empty()) {
        sleeping_ = true;
        ready_.wait(lock);
    }
    sleeping_ = false;
    std::move(queued_.begin(), queued_.end(), std::back_inserter(out));
    queued_.clear();
}

delivery_loop::delivery_loop(std::shared_ptr<delivery_queue> in,
                             std::function<void(const peer_event&)> peer_handler,
                             std::shared_ptr<shared_counters> counters)
    : in_(std::move(in)), peer_handler_(std::move(peer_handler)), counters_(std::move(counters)) {}

void delivery_loop::run() noexcept {
    std::vector<delivery> batch;
    while (!done_) {
        in_->take_all(batch);
        for (auto& d : batch) {
            if (!done_) std::visit([this](auto& x) { handle(x); }, d);
        }
        batch.clear();
    }
}

void delivery_loop::handle(peer_event& e) {
    if (!peer_handler_) return;
    counters_->run_guarded("a peer event handler", [&] { peer_handler_(e); });
}

void delivery_loop::handle(event_batch& b) {
    const bool stopping = counters_->stopping.load(std::memory_order_relaxed);
    for (const auto& e : b.events) {
        if (stopping) break;
        for (const auto& s : subscriptions_) {
            if (e.topic().starts_with(s.prefix))
                counters_->run_guarded("an event handler", [&] { s.handler(e); });
        }
    }
    // Only now is there room again: the reactor resumes reading when this falls.
    counters_->pending_events.fetch_sub(static_cast<std::int64_t>(b.events.size()),
                                        std::memory_order_release);
}

void delivery_loop::handle(subscription_added& s) {
    subscriptions_.push_back({s.id, std::move(s.prefix), std::move(s.handler)});
}

void delivery_loop::handle(subscription_removed& s) {
    std::erase_if(subscriptions_, [&](const subscription& x) { return x.id == s.id; });
}

void delivery_loop::handle(call_batch& b) {
    for (auto& c : b.calls) handle(c);
}

void delivery_loop::handle(stream_delivery& d) {
    // Stopping: not run. Unsettled, it goes to another member, or to this one when it is back.
    if (counters_->stopping.load(std::memory_order_relaxed)) return;
    counters_->run_guarded("a stream handler", [&] { (*d.handler)(d.message); });
}

void delivery_loop::handle(call_completed& c) {
    counters_->run_guarded("a call callback", [&] { c.done(c.result); });
}

}  // namespace zmesh::detail
