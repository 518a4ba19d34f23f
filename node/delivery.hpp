// SPDX-License-Identifier: MPL-2.0
// delivery: the thread that runs the application's callbacks, fed by the reactor through an
// inproc pipe. It owns the handler table, so subscribing needs no lock: table changes arrive
// on the pipe in order with the events.
#pragma once

#include "command.hpp"

#include <zmq.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace zmesh::detail {

class delivery_loop {
public:
    delivery_loop(zmq::socket_t in, std::function<void(const peer_event&)> peer_handler,
                  std::shared_ptr<shared_counters> counters);

    // Runs until end_of_deliveries (or the pipe closes). Never throws.
    void run() noexcept;

private:
    void handle(peer_event& e);
    void handle(event_batch& b);
    void handle(subscription_added& s);
    void handle(subscription_removed& s);
    void handle(call_completed& c);
    void handle(call_batch& b);
    void handle(end_of_deliveries&) { done_ = true; }

    struct subscription {
        subscription_id id;
        std::string prefix;
        event_handler handler;
    };

    zmq::socket_t in_;
    std::function<void(const peer_event&)> peer_handler_;
    std::shared_ptr<shared_counters> counters_;
    std::vector<subscription> subscriptions_;   // few: a linear scan beats a trie here
    bool done_ = false;
};

}  // namespace zmesh::detail
