// SPDX-License-Identifier: MPL-2.0
// delivery: dispatch of peer events and events to the application's handlers.
#include "delivery.hpp"

#include "pipe.hpp"

#include <algorithm>

namespace zmesh::detail {

delivery_loop::delivery_loop(zmq::socket_t in, std::function<void(const peer_event&)> peer_handler,
                             std::shared_ptr<shared_counters> counters)
    : in_(std::move(in)), peer_handler_(std::move(peer_handler)), counters_(std::move(counters)) {}

void delivery_loop::run() noexcept {
    while (!done_) {
        std::unique_ptr<delivery> d;
        try {
            d = receive_owned<delivery>(in_, zmq::recv_flags::none);
        } catch (...) {
        }
        if (!d) return;
        std::visit([this](auto& x) { handle(x); }, *d);
    }
}

void delivery_loop::handle(peer_event& e) {
    if (!peer_handler_) return;
    counters_->run_guarded([&] { peer_handler_(e); });
}

void delivery_loop::handle(event_batch& b) {
    const bool stopping = counters_->stopping.load(std::memory_order_relaxed);
    for (const auto& e : b.events) {
        if (stopping) break;
        for (const auto& s : subscriptions_) {
            if (e.topic().starts_with(s.prefix))
                counters_->run_guarded([&] { s.handler(e); });
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

void delivery_loop::handle(call_completed& c) {
    counters_->run_guarded([&] { c.done(c.result); });
}

}  // namespace zmesh::detail
