// SPDX-License-Identifier: MPL-2.0
// reactor, RPC glue: calls go to the RPC client (node/rpc/client), requests to the RPC
// server (node/rpc/server); the reactor sends what they send through its sockets.
#include "reactor.hpp"

#include "pipe.hpp"
#include "protocol/msgpack_io.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>

namespace zmesh::detail {

void reactor::call(call_command&& c) {
    if (stopping_) {
        refuse_after_stop(c);   // its caller must not hang
        return;
    }
    client_.call(std::move(c), call_clock());
}

bool reactor::send_on_link(const node_id& peer, zmq::message_t& frame) {
    const auto l = links_.find(peer);
    return l != links_.end() && send_on(l->second, frame);
}

void reactor::peer_called(const node_id& peer) {
    if (const auto l = links_.find(peer); l != links_.end()) l->second.used = true;
}

void reactor::peer_alive(const node_id& peer, clock::time_point now) {
    if (auto* p = table_.find(peer)) apply(table_.on_traffic(*p, now));
}

void reactor::handle(serve_command& c) {
    if (!server_.serve(c)) return;
    // Peers learn the new list from a fresh HELLO. One still handshaking may already hold our
    // old HELLO: ask it to answer, so the handshake completes with the new list.
    for (const auto& [id, p] : table_.all())
        send_to(id, hello_message(&p, p.state == peer_state::connecting));
}

void reactor::on_rpc(discovery::peer& from, routed_frame& in, std::uint8_t type, clock::time_point now) {
    if (type == protocol::request_type)
        server_.on_request(from.id, from.name, in, now);
    else if (const auto m = protocol::read_reply(in.bytes))
        client_.on_reply(from, in.frame, *m);
    else
        ++stats_.frames_invalid;
}

void reactor::send_reply(zmq::message_t& routing, zmq::message_t& frame) {
    // Back on the connection the request came by, the caller's link or its call link: its
    // routing id at our ROUTER names it. A reply there keeps it alive under load (any frame
    // answers libzmq's heartbeat), and the round trip uses one TCP connection, not two.
    // ROUTER_MANDATORY: a caller no longer connected, or a full queue, is a counted drop.
    touched(polled_router);   // a send may take the signal of a request waiting to be read
    try {
        if (router_.send(routing, zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
            router_.send(frame, zmq::send_flags::dontwait))
            return;
    } catch (const zmq::error_t&) {
    }
    ++stats_.rpc_replies_dropped;
}

}  // namespace zmesh::detail
