// SPDX-License-Identifier: MPL-2.0
// node_waits: waiting for members, providers and subscribers, woken by the reactor when its
// view of the mesh changes (view_signal) and checked against a snapshot of peers().
#include "node_threads.hpp"

#include <algorithm>
#include <stdexcept>

namespace zmesh {

namespace {

// A member joined both ways: we took its HELLO, and it took ours. Its SUBS (sent once it
// has us joined, whatever it subscribes to) says the second: until then a request from us
// would reach a node that does not know us yet, and be dropped.
bool joined_member(const peer_info& p) {
    return p.state == peer_state::joined && !p.observer && p.subscriptions_known;
}

}  // namespace

bool node::wait_for_view(const std::function<bool(const std::vector<peer_info>&)>& holds,
                         milliseconds timeout) const {
    if (!threads_) return false;
    if (threads_->own_thread(false))
        throw std::logic_error("node::wait_for_* called from the node's reactor or delivery thread: "
                               "the mesh cannot change while that thread waits");
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::max(timeout, milliseconds(0));
    auto& view = *threads_->view;
    for (;;) {
        const auto seen = view.generation();
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
        if (holds(threads_->ask<std::vector<peer_info>, detail::peers_query>(std::max(left, milliseconds(0)))))
            return true;
        if (!view.wait_change(seen, deadline)) return false;
    }
}

bool node::wait_for_peers(std::size_t n, milliseconds timeout) const {
    if (n == 0) return running();
    return wait_for_view([n](const std::vector<peer_info>& peers) {
        return static_cast<std::size_t>(std::count_if(peers.begin(), peers.end(), joined_member)) >= n;
    }, timeout);
}

bool node::wait_for_provider(std::string_view method, milliseconds timeout) const {
    return wait_for_view([method](const std::vector<peer_info>& peers) {
        return std::any_of(peers.begin(), peers.end(), [&](const peer_info& p) {
            return joined_member(p) && std::find(p.services.begin(), p.services.end(), method) != p.services.end();
        });
    }, timeout);
}

bool node::wait_for_subscribers(std::string_view topic, std::size_t n, milliseconds timeout) const {
    if (n == 0) return running();
    // Past options::link_everyone_below, members link a publisher only once its meta lists
    // the topic's prefix: one that waits for subscribers before its first event says so now.
    if (threads_ && !threads_->own_thread(false)) send_command(detail::announce_command{std::string(topic)});
    return wait_for_view([topic, n](const std::vector<peer_info>& peers) {
        return static_cast<std::size_t>(std::count_if(peers.begin(), peers.end(), [&](const peer_info& p) {
                   return joined_member(p) &&
                          std::any_of(p.subscriptions.begin(), p.subscriptions.end(),
                                      [&](const std::string& prefix) { return topic.starts_with(prefix); });
               })) >= n;
    }, timeout);
}

}  // namespace zmesh
