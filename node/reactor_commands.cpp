// SPDX-License-Identifier: MPL-2.0
// reactor, commands: what the node's API asks (through the pipe, or posted by code on this
// thread), each handed to the component it concerns.
#include "reactor.hpp"

#include <algorithm>
#include <tuple>

namespace zmesh::detail {

void reactor::handle(peers_query& q) {
    std::vector<peer_info> out;
    const auto now = clock::now();
    for (const auto& [id, p] : mesh_.table().all()) out.push_back(to_info(p, now));
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
    q.reply.set_value(std::move(out));
}

void reactor::handle(stats_query& q) { q.reply.set_value(current_stats()); }

node_stats reactor::current_stats() {
    stats_.handshake_timeouts = mesh_.table().handshake_timeouts();
    stats_.handler_errors = counters_->handler_errors.load(std::memory_order_relaxed);
    stats_.publish_dropped = counters_->publish_dropped.load(std::memory_order_relaxed);
    server_.count_workers();
    streams_.count(stats_);
    return stats_;
}

void reactor::handle(announce_command& c) {
    if (publisher_.announce(c.topic)) mesh_.publishes_changed();
}

void reactor::handle(serve_command& c) {
    if (server_.serve(c)) mesh_.services_changed();
}

void reactor::on_publish(zmq::message_t& frame, const stored_callback& stored, std::string_view key) {
    // Laid out by node::send_event: a frame that is not is a bug, and dropped.
    const auto e = publisher_.stamp(frame);
    if (!e) {
        if (stored) stored(store_outcome::failed, "malformed event frame");
        return;
    }
    if (e->new_prefix) mesh_.publishes_changed();
    subscriber_.deliver_local(e->topic, e->header, e->body);
    // Stored before it is sent: the views into the frame end with the send.
    streams_.published(e->topic, key, e->body, e->header.sent_us, stored, call_clock());
    publisher_.send(frame);
}

peer_info reactor::to_info(const discovery::peer& p, clock::time_point now) const {
    peer_info info;
    info.id = p.id;
    info.name = p.name;
    info.state = p.state;
    info.pub_endpoint = p.pub_endpoint;
    info.router_endpoint = p.router_endpoint;
    info.services = p.services;
    info.observer = p.observer;
    info.last_seen_ms = std::chrono::duration_cast<milliseconds>(now - p.last_seen).count();
    info.rtt_us = p.rtt_us;
    info.linked = p.linked;
    info.subscriptions = p.subscriptions;
    info.subscriptions_known = p.subscriptions_known;
    info.publishes = p.publishes;
    info.reported = p.reported;
    const auto seen = subscriber_.of(p.id);
    info.events_in = seen.events_in;
    info.gaps = seen.gaps;
    return info;
}

}  // namespace zmesh::detail
