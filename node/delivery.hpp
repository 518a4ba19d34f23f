// SPDX-License-Identifier: MPL-2.0
// delivery: the thread that runs the application's callbacks, fed by the reactor through a
// delivery_queue. It owns the handler table, so subscribing needs no lock: table changes
// arrive in order with the events.
#pragma once

#include "command.hpp"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace zmesh::detail {

// The hand-off from the reactor (its outbox) to the delivery thread, in order. The delivery
// thread takes everything queued at once, and is woken only when it sleeps with nothing to
// do, not for each batch the reactor hands over.
class delivery_queue {
public:
    // Queues `d` after everything queued before it. Any thread (the reactor's).
    void push(delivery d);
    // Moves everything queued, in order, to the end of `out`; waits until something is.
    void take_all(std::vector<delivery>& out);

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::vector<delivery> queued_;
    bool sleeping_ = false;   // the taker waits in take_all()
};

class delivery_loop {
public:
    delivery_loop(std::shared_ptr<delivery_queue> in, std::function<void(const peer_event&)> peer_handler,
                  std::shared_ptr<shared_counters> counters);

    // Runs until end_of_deliveries. Never throws.
    void run() noexcept;

private:
    void handle(peer_event& e);
    void handle(event_batch& b);
    void handle(subscription_added& s);
    void handle(subscription_removed& s);
    void handle(call_completed& c);
    void handle(call_batch& b);
    void handle(stream_delivery& d);
    void handle(end_of_deliveries&) { done_ = true; }

    struct subscription {
        subscription_id id;
        std::string prefix;
        event_handler handler;
    };

    std::shared_ptr<delivery_queue> in_;
    std::function<void(const peer_event&)> peer_handler_;
    std::shared_ptr<shared_counters> counters_;
    std::vector<subscription> subscriptions_;   // few: a linear scan beats a trie here
    bool done_ = false;
};

}  // namespace zmesh::detail
