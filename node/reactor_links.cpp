// SPDX-License-Identifier: MPL-2.0
// reactor, links half: the dialler's connection to each peer's ROUTER (what we send it, and
// the REPLY to each REQUEST we sent on it), our SUB's connections to their PUBs (what they
// publish, only while we subscribe), and the two monitors that watch them. A dropped link
// is how a killed peer is noticed within milliseconds; a dropped event connection is
// dialled again.
#include "reactor.hpp"

#include "handshake_failure.hpp"
#include "protocol/control.hpp"
#include "protocol/rpc.hpp"

#include <cstring>

namespace zmesh::detail {

bool reactor::open_link(const node_id& id, const std::string& router_endpoint, std::uint64_t token) {
    link l;
    // A first byte of 0 is libzmq's own routing ids: ours start with another.
    l.routing = "L";
    const auto generation = ++link_generation_;
    l.routing.append(reinterpret_cast<const char*>(&generation), sizeof generation);
    l.routing.append(reinterpret_cast<const char*>(id.bytes().data()), id.bytes().size());
    l.router_endpoint = router_endpoint;
    try {
        if (!security_.secure_client(dialer_, id)) return false;
        dialer_.set(zmq::sockopt::connect_routing_id, zmq::buffer(l.routing));
        // What the peer's ROUTER knows this connection by: our id and the token we give the
        // peer (PROTOCOL.md §6.1), taken by each connection as it is made.
        std::array<std::uint8_t, protocol::max_routing_id_size> ours;
        const auto routing_id = protocol::routing_id_of({id_, false, token}, ours);
        dialer_.set(zmq::sockopt::routing_id, zmq::buffer(routing_id.data(), routing_id.size()));
        dialer_.connect(router_endpoint);
    } catch (const zmq::error_t& e) {
        log(log_level::warn, "cannot dial " + id.short_hex() + " at " + router_endpoint + ": " + e.what());
        return false;
    }
    links_.insert_or_assign(id, std::move(l));
    return true;
}

const node_id* reactor::linked_at(const std::string& router_endpoint) const {
    for (const auto& [id, l] : links_)
        if (l.router_endpoint == router_endpoint) return &id;
    return nullptr;
}

void reactor::close_link(node_id id) {
    const auto it = links_.find(id);
    if (it == links_.end()) return;
    call_links_.close(id);   // closed with the link (linger 0)
    try {
        // Queued messages go with it (linger 0), as they went with a closed socket.
        dialer_.disconnect(it->second.router_endpoint);
    } catch (const zmq::error_t&) {
        // ENOENT: libzmq ended it already (a failed security handshake).
    }
    links_.erase(it);
}

bool reactor::send_on(link& l, zmq::message_t& frame) {
    l.used = true;
    touched(polled_dialer);   // a send may take the signal of a reply waiting to be read
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

void reactor::accept_reply(discovery::peer* from, zmq::message_t& frame, clock::time_point now) {
    if (!from || from->state == peer_state::connecting) {
        ++stats_.frames_unknown_sender;
        return;
    }
    // Read once: read_reply checks the version and the type itself (a peek at them first
    // cost ~50 instructions a reply).
    const auto m = protocol::read_reply(bytes_of(frame));
    if (!m) {   // wrong version or type included: nothing else comes back on a link
        ++stats_.frames_invalid;
        return;
    }
    apply(table_.on_traffic(*from, now));
    client_.on_reply(*from, frame, *m);
}

bool reactor::send_on(link& l, zmq::const_buffer frame) {
    zmq::message_t msg(frame.data(), frame.size());
    return send_on(l, msg);
}

std::optional<std::vector<std::uint8_t>> reactor::encoded(const protocol::control& msg) {
    try {
        return protocol::encode_control(msg);
    } catch (const std::length_error& e) {
        // Our own fields are validated at start, so this is a bug: report it, keep running.
        ++stats_.sends_dropped;
        log(log_level::error, std::string("cannot encode control message: ") + e.what());
        return std::nullopt;
    }
}

void reactor::send_control(link& l, const protocol::control& msg) {
    // PING and PONG do not make a link used: else two idle peers would measure each other's
    // round trip forever, each PONG asking for the next PING.
    const bool used = l.used;
    if (const auto frame = encoded(msg); frame && !send_on(l, zmq::buffer(*frame))) ++stats_.sends_dropped;
    if (std::holds_alternative<protocol::ping>(msg) || std::holds_alternative<protocol::pong>(msg))
        l.used = used;
}

void reactor::on_dialer_monitor(clock::time_point now) {
    monitor_event e;
    for (int i = 0; i < max_batch && read_monitor_event(dialer_monitor_, e); ++i) {
        if (note_handshake_failure(ctx_, e, security_.secured())) continue;
        const auto* id = linked_at(e.endpoint);
        auto* p = id ? table_.find(*id) : nullptr;
        if (!p) continue;   // closed meanwhile
        if (e.kind == ZMQ_EVENT_DISCONNECTED) {
            ++stats_.link_disconnects;
            log(log_level::debug, "connection to " + p->name + " dropped");
            apply(table_.on_disconnect(*p, now));
        } else if (e.kind == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            // Back after a drop: whoever listens there now is asked who it is. The peer
            // answers as itself; a process restarted on its ports answers with its own id,
            // quoting our token, and so replaces it (on_hello).
            if (p->state != peer_state::connecting && p->disconnected_at)
                send_to(p->id, hello_message(p, true));
            // Not CONNECTED: the kernel completes a TCP connect to a stopped process.
            apply(table_.on_link_up(*p, now));
        } else if (e.kind == ZMQ_EVENT_CONNECT_RETRIED) {
            apply(table_.on_reconnect_failed(*p));
        }
    }
}

bool reactor::recv_routed(zmq::socket_t& s, zmq::message_t& routing, zmq::message_t& frame,
                          bool& one_frame) {
    if (!s.recv(routing, zmq::recv_flags::dontwait)) return false;
    // The rest of a message is already here: libzmq queues whole messages.
    const bool got_frame = routing.more() && s.recv(frame);
    one_frame = got_frame && !frame.more();
    for (bool more = got_frame && frame.more(); more;) {   // drain the excess
        zmq::message_t extra;
        (void)s.recv(extra);
        more = extra.more();
    }
    return true;
}

bool reactor::on_dialer(clock::time_point now) {
    zmq::message_t routing, frame;
    for (int i = 0; i < max_batch; ++i) {
        run_posted();   // the last reply's callback's next call goes out first (see on_router)
        if (stopping_) return false;
        bool one_frame = false;
        if (!recv_routed(dialer_, routing, frame, one_frame)) return true;
        // [our routing id of the link][REPLY]: nothing else may come back on a link.
        if (!one_frame || routing.size() <= 1 + sizeof link_generation_) {
            ++stats_.frames_invalid;
            continue;
        }
        // The routing id is 'L', a generation, then the peer's id (open_link). Only the
        // current link of a known peer counts: one closed since may still hand over a reply.
        // Its sender needs no key check: the link's handshake proved the key we dialled.
        const auto id = node_id::from_bytes(bytes_of(routing).subspan(1 + sizeof link_generation_));
        const auto l = id ? links_.find(*id) : links_.end();
        if (l == links_.end() || l->second.routing != routing.to_string_view()) {
            ++stats_.frames_unknown_sender;
            continue;
        }
        accept_reply(table_.find(*id), frame, now);
    }
    return false;
}

}  // namespace zmesh::detail
