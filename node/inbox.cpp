// SPDX-License-Identifier: MPL-2.0
// inbox: the ROUTER's bounds, and telling each message it reads apart. Every byte here comes
// from the network: decode errors are counted, never thrown, never asserted.
#include "inbox.hpp"

#include "protocol/stream.hpp"

#include "bind.hpp"
#include "pipe.hpp"
#include "routed_recv.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>

namespace zmesh::detail {

inbox::inbox(node_context& ctx, zmq::context_t& net, security& sec, listeners& l, socket_use router_used)
    : ctx_(ctx), security_(sec), listeners_(l), router_used_(router_used) {
    const auto& opts = ctx_.opts;
    router_ = bind_socket(net, zmq::socket_type::router, opts.bind, opts.router_port, "ROUTER", opts.peer_queue,
                          [&](zmq::socket_t& s) {
                              listeners_.watch(s, listener::router);
                              // Past this a connection is dropped by libzmq before the frame
                              // is allocated, whatever a stranger announces. The largest
                              // valid frame: a control frame, or an RPC header and its body.
                              s.set(zmq::sockopt::maxmsgsize,
                                    static_cast<int64_t>(std::max(protocol::max_control_size,
                                                                  protocol::max_rpc_header_size + opts.max_rpc_size)));
                              sec.secure_server(s);
                          });
    // A peer that reconnects (same id) replaces its stale connection instead of being refused.
    router_.set(zmq::sockopt::router_handover, 1);
    // It sends only REPLYs, each back on its caller's link: one that cannot go is counted.
    router_.set(zmq::sockopt::router_mandatory, 1);
    port_ = bound_port(router_);
    listeners_.bound(listener::router, port_);
}

bool inbox::on_readable(const std::function<bool()>& between, inbox_reader& reader) {
    auto& stats = ctx_.stats;
    zmq::message_t routing_id, frame;
    for (int i = 0; i < max_batch; ++i) {
        if (!between()) return false;
        bool one_frame = false;
        if (!recv_routed(router_, routing_id, frame, one_frame)) return true;
        // Every message is one frame after the routing id: control or RPC, told by its type.
        if (!one_frame) {
            ++stats.frames_invalid;
            continue;
        }
        const auto route = protocol::read_routing_id(bytes_of(routing_id));
        const auto sender = route ? std::optional(route->id) : std::nullopt;
        const std::span bytes(frame.data<std::uint8_t>(), frame.size());
        const auto head = protocol::peek_header(bytes);
        const bool rpc = head && (head->type == protocol::request_type || head->type == protocol::reply_type);
        if (route && route->call_link && !(rpc && head->type == protocol::request_type)) {
            ++stats.frames_invalid;   // a call link carries REQUESTs, nothing else
            continue;
        }
        if (rpc) {
            // Only a routing id that is a node's id names a sender, and so a route back.
            if (!admits(sender, frame)) continue;
            if (!route) {
                ++stats.frames_unknown_sender;
                continue;
            }
            routed_frame in{*route, routing_id, frame, bytes};
            reader.on_rpc(in, head->type);
            continue;
        }
        if (head && protocol::is_stream_type(head->type)) {
            if (!admits(sender, frame)) continue;
            if (!route) {
                ++stats.frames_unknown_sender;
                continue;
            }
            reader.on_stream(*route, bytes, head->type);
            continue;
        }
        auto msg = protocol::decode_control(bytes);
        if (!msg) {
            ++(msg.error() == protocol::errc::bad_version    ? stats.frames_bad_version
               : msg.error() == protocol::errc::unknown_type ? stats.frames_unknown_type
                                                              : stats.frames_invalid);
            ctx_.log(log_level::debug, "dropped frame: " + std::string(protocol::to_string(msg.error())));
            continue;
        }
        // A HELLO speaks for the id inside it (a seed probe has no routing id of ours);
        // everything else for its routing id.
        const auto* hello = std::get_if<protocol::hello>(&*msg);
        if (!admits(hello ? std::optional(hello->id) : sender, frame)) continue;
        reader.on_control(route, *msg);
    }
    return false;   // a full batch: more may be waiting
}

bool inbox::admits(const std::optional<protocol::node_id>& claimed, zmq::message_t& frame) {
    std::optional<curve_key> key;
    const bool ok = security_.admits(claimed, frame, key);
    if (key) listeners_.keyed_router_message(frame, *key);   // to cut it if the key is revoked
    return ok;
}

void inbox::send_reply(zmq::message_t& routing, zmq::message_t& frame) {
    // Back on the connection the request came by, the caller's link or its call link: its
    // routing id at our ROUTER names it. A reply there keeps it alive under load (any frame
    // answers libzmq's heartbeat), and the round trip uses one TCP connection, not two.
    // ROUTER_MANDATORY: a caller no longer connected, or a full queue, is a counted drop.
    router_used_();   // a send may take the signal of a request waiting to be read
    try {
        if (router_.send(routing, zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
            router_.send(frame, zmq::send_flags::dontwait))
            return;
    } catch (const zmq::error_t&) {
    }
    ++ctx_.stats.rpc_replies_dropped;
}

}  // namespace zmesh::detail
