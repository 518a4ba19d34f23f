// SPDX-License-Identifier: MPL-2.0
// socket_monitor: reading what libzmq's socket monitors report (a connection made, lost,
// retried, its handshake done or failed), and counting a failed handshake by its cause.
#pragma once

#include "context.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <string>

namespace zmesh::detail {

struct monitor_event {
    std::uint16_t kind = 0;    // ZMQ_EVENT_*
    std::uint32_t value = 0;   // its value: errno, protocol error, ZAP status, descriptor...
    std::string endpoint;
};

// What a dialling socket's monitor reports: connected, dropped, retried, security handshake
// failed.
inline constexpr int dial_events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
// What a listener's monitor reports: each connection accepted and lost, by descriptor.
inline constexpr int listen_events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED;

// Returns: a PAIR in `ctx` receiving `s`'s connection events of kinds `events`. Throws
// std::runtime_error naming `what` when libzmq refuses.
zmq::socket_t watch(zmq::context_t& ctx, zmq::socket_t& s, const char* what, int events);

// Reads one event of `monitor` into `e`. Returns: false when none is waiting.
bool read_monitor_event(zmq::socket_t& monitor, monitor_event& e);

// Counts and logs (once per cause and endpoint) `e` when it is a failed ZMTP handshake
// (`secured`: this node is). Returns: false when `e` is another event.
bool note_handshake_failure(node_context& ctx, const monitor_event& e, bool secured);

}  // namespace zmesh::detail
