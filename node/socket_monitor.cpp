// SPDX-License-Identifier: MPL-2.0
// socket_monitor: monitor events, and failed handshakes counted by cause.
#include "socket_monitor.hpp"

#include "handshake_failure.hpp"
#include "pipe.hpp"

#include <cstring>
#include <stdexcept>

namespace zmesh::detail {

zmq::socket_t watch(zmq::context_t& ctx, zmq::socket_t& s, const char* what, int events) {
    const std::string endpoint = unique_inproc("monitor");
    if (zmq_socket_monitor(s.handle(), endpoint.c_str(), events) != 0)
        throw std::runtime_error(std::string("cannot monitor the ") + what + " socket");
    zmq::socket_t pair(ctx, zmq::socket_type::pair);
    pair.set(zmq::sockopt::linger, 0);
    pair.connect(endpoint);
    return pair;
}

bool read_monitor_event(zmq::socket_t& monitor, monitor_event& e) {
    zmq::message_t event, address;
    for (;;) {
        if (!monitor.recv(event, zmq::recv_flags::dontwait)) return false;
        // [16-bit event, 32-bit value][endpoint]
        if (!event.more() || !monitor.recv(address) || event.size() < sizeof e.kind + sizeof e.value) continue;
        std::memcpy(&e.kind, event.data(), sizeof e.kind);
        std::memcpy(&e.value, event.data<char>() + sizeof e.kind, sizeof e.value);
        e.endpoint = address.to_string();
        return true;
    }
}

bool note_handshake_failure(node_context& ctx, const monitor_event& e, bool secured) {
    const auto f = describe_handshake_failure(e.kind, e.value, secured);
    if (!f) return false;
    auto& stats = ctx.stats;
    ++stats.handshakes_failed;
    switch (f->cause) {
        case handshake_cause::timeout: ++stats.handshakes_failed_timeout; break;
        case handshake_cause::closed: ++stats.handshakes_failed_closed; break;
        case handshake_cause::protocol: ++stats.handshakes_failed_protocol; break;
        case handshake_cause::auth: ++stats.handshakes_failed_auth; break;
    }
    // libzmq dials again by itself: the same cause at the same endpoint is logged once.
    ctx.warn_once("handshake " + e.endpoint + " " + std::to_string(static_cast<int>(f->cause)) + " " +
                      std::to_string(f->code),
                  f->level, "handshake with " + e.endpoint + " failed: " + f->text);
    return true;
}

}  // namespace zmesh::detail
