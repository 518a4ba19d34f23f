// SPDX-License-Identifier: MPL-2.0
// links: the dialler, its monitor, and one routed connection per dialled peer.
#include "links.hpp"

#include "node/handshake_failure.hpp"
#include "node/pipe.hpp"
#include "node/routed_recv.hpp"
#include "node/socket_monitor.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>
#include <array>

namespace zmesh::detail {

namespace {

// Makes libzmq heartbeat each connection of `s` every `l.heartbeat`, drop one after
// `l.evasive` without any traffic from the peer, and ask the peer to drop its end after
// `l.expired` without a heartbeat from us.
//
// Only on a socket whose receive queues never fill: libzmq 4.3 aborts (issue 3937) when a
// heartbeat ends a connection whose input it had stopped for a full queue and the
// reconnected one is then told the queue has room. Hence none on the SUB, which pauses
// reading while handlers are behind.
void set_heartbeats(zmq::socket_t& s, const discovery::liveness_config& l) {
    const auto ms = [](std::chrono::milliseconds d) {
        return static_cast<int>(std::clamp<std::int64_t>(d.count(), 1, 6'553'500));   // TTL's limit
    };
    s.set(zmq::sockopt::heartbeat_ivl, ms(l.heartbeat));
    s.set(zmq::sockopt::heartbeat_ttl, ms(l.expired));
    s.set(zmq::sockopt::heartbeat_timeout, ms(l.evasive));
}

}  // namespace

links::links(node_context& ctx, zmq::context_t& net, security& sec, socket_use dialer_used)
    : ctx_(ctx), security_(sec), dialer_used_(dialer_used), dialer_(net, zmq::socket_type::router) {
    const auto& opts = ctx_.opts;
    dialer_.set(zmq::sockopt::linger, 0);
    // A message for a peer waits in its connection's queue (up to peer_queue) until
    // connected, as a DEALER's would: thousands of calls may be in flight.
    dialer_.set(zmq::sockopt::sndhwm, opts.peer_queue);
    // A full queue or an ended connection is an error to the sender, not a silent drop.
    dialer_.set(zmq::sockopt::router_mandatory, 1);
    // libzmq heartbeats every link (ZMTP PING, answered inside the peer's libzmq) and drops
    // one silent for `evasive`: idle links carry no message of ours, so their queues stay
    // small. The TTL lets the peer drop our end of a link we stopped heartbeating (a process
    // frozen or a network gone).
    // Not when this node gossips: gossip's probes judge members, at a cost that grows with
    // the members rather than with the links, and the mesh pings the peers that do not.
    if (!ctx_.gossips()) set_heartbeats(dialer_, opts.liveness);
    // What comes back on a link is a peer's REPLY to our REQUEST, one per call. The reactor
    // reads them at once; no limit on how many wait, so that libzmq never stops reading a
    // link (see set_heartbeats). Each is at most a REPLY's size.
    dialer_.set(zmq::sockopt::rcvhwm, 0);
    dialer_.set(zmq::sockopt::maxmsgsize,
                static_cast<int64_t>(protocol::max_rpc_header_size + opts.max_rpc_size));
    // The monitor sees every peer's link drop (kernel FIN/RST, or heartbeats unanswered)
    // and come back (a finished handshake), with the endpoint dialled.
    monitor_ = watch(net, dialer_, "dialler", dial_events | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
}

bool links::open(const protocol::node_id& id, const std::string& router_endpoint, std::uint64_t token) {
    link l;
    // A first byte of 0 is libzmq's own routing ids: ours start with another.
    l.routing = "L";
    const auto generation = ++generation_;
    l.routing.append(reinterpret_cast<const char*>(&generation), sizeof generation);
    l.routing.append(reinterpret_cast<const char*>(id.bytes().data()), id.bytes().size());
    l.router_endpoint = router_endpoint;
    try {
        if (!security_.secure_client(dialer_, id)) return false;
        dialer_.set(zmq::sockopt::connect_routing_id, zmq::buffer(l.routing));
        // What the peer's ROUTER knows this connection by: our id and the token we give the
        // peer (PROTOCOL.md §6.1), taken by each connection as it is made.
        std::array<std::uint8_t, protocol::max_routing_id_size> ours;
        const auto routing_id = protocol::routing_id_of({ctx_.id, false, token}, ours);
        dialer_.set(zmq::sockopt::routing_id, zmq::buffer(routing_id.data(), routing_id.size()));
        dialer_.connect(router_endpoint);
    } catch (const zmq::error_t& e) {
        ctx_.log(log_level::warn, "cannot dial " + id.short_hex() + " at " + router_endpoint + ": " + e.what());
        return false;
    }
    links_.insert_or_assign(id, std::move(l));
    return true;
}

void links::close(const protocol::node_id& id) {
    const auto it = links_.find(id);
    if (it == links_.end()) return;
    try {
        // Queued messages go with it (linger 0), as they went with a closed socket.
        dialer_.disconnect(it->second.router_endpoint);
    } catch (const zmq::error_t&) {
        // ENOENT: libzmq ended it already (a failed security handshake).
    }
    links_.erase(it);
}

bool links::send(const protocol::node_id& id, zmq::message_t& frame) {
    const auto l = links_.find(id);
    return l != links_.end() && send_on(l->second, frame);
}

bool links::send_on(link& l, zmq::message_t& frame) {
    l.used = true;
    dialer_used_();   // a send may take the signal of a reply waiting to be read
    try {
        // ROUTER_MANDATORY: a full queue is EAGAIN (false), an ended connection throws.
        // Once the routing id is taken the frame after it always is: the queue counts
        // whole messages.
        return dialer_.send(zmq::buffer(l.routing), zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
               dialer_.send(frame, zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
        return false;
    }
}

void links::send(const protocol::node_id& id, const protocol::control& msg) {
    const auto l = links_.find(id);
    if (l == links_.end()) return;
    std::vector<std::uint8_t> bytes;
    try {
        bytes = protocol::encode_control(msg);
    } catch (const std::length_error& e) {
        // Our own fields are validated at start, so this is a bug: report it, keep running.
        ++ctx_.stats.sends_dropped;
        ctx_.log(log_level::error, std::string("cannot encode control message: ") + e.what());
        return;
    }
    // PING and PONG do not make a link used: else two idle peers would measure each other's
    // round trip forever, each PONG asking for the next PING.
    const bool used = l->second.used;
    zmq::message_t frame(bytes.data(), bytes.size());
    if (!send_on(l->second, frame)) ++ctx_.stats.sends_dropped;
    if (std::holds_alternative<protocol::ping>(msg) || std::holds_alternative<protocol::pong>(msg))
        l->second.used = used;
}

bool links::take_used(const protocol::node_id& id) {
    const auto l = links_.find(id);
    if (l == links_.end()) return false;
    return std::exchange(l->second.used, false);
}

void links::mark_used(const protocol::node_id& id) {
    if (const auto l = links_.find(id); l != links_.end()) l->second.used = true;
}

std::optional<protocol::node_id> links::linked_at(const std::string& router_endpoint) const {
    for (const auto& [id, l] : links_)
        if (l.router_endpoint == router_endpoint) return id;
    return std::nullopt;
}

bool links::on_readable(const std::function<bool()>& between,
                        const std::function<void(const protocol::node_id&, zmq::message_t&)>& reply) {
    zmq::message_t routing, frame;
    for (int i = 0; i < max_batch; ++i) {
        if (!between()) return false;
        bool one_frame = false;
        if (!recv_routed(dialer_, routing, frame, one_frame)) return true;
        // [our routing id of the link][REPLY]: nothing else may come back on a link.
        if (!one_frame || routing.size() <= 1 + sizeof generation_) {
            ++ctx_.stats.frames_invalid;
            continue;
        }
        // Only the current link of a known peer counts: one closed since may still hand over
        // a reply. Its sender needs no key check: the link's handshake proved the key dialled.
        const auto id = protocol::node_id::from_bytes(bytes_of(routing).subspan(1 + sizeof generation_));
        const auto l = id ? links_.find(*id) : links_.end();
        if (l == links_.end() || l->second.routing != routing.to_string_view()) {
            ++ctx_.stats.frames_unknown_sender;
            continue;
        }
        reply(*id, frame);
    }
    return false;
}

void links::on_monitor(const std::function<void(const protocol::node_id&, link_event)>& seen) {
    monitor_event e;
    for (int i = 0; i < max_batch && read_monitor_event(monitor_, e); ++i) {
        if (note_handshake_failure(ctx_, e, security_.secured())) continue;
        const auto id = linked_at(e.endpoint);
        if (!id) continue;   // closed meanwhile
        if (e.kind == ZMQ_EVENT_DISCONNECTED)
            seen(*id, link_event::down);
        else if (e.kind == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            seen(*id, link_event::up);
        else if (e.kind == ZMQ_EVENT_CONNECT_RETRIED)
            seen(*id, link_event::retry_failed);
    }
}

void links::close_all() {
    // Give LEAVE time to reach every peer; closing the context waits for it.
    dialer_.set(zmq::sockopt::linger, 500);
    zmq_socket_monitor(dialer_.handle(), nullptr, 0);
    links_.clear();
    monitor_.close();
    dialer_.close();
}

}  // namespace zmesh::detail
