// SPDX-License-Identifier: MPL-2.0
// socket_use: how a component tells the reactor it used one of the sockets the loop waits
// on. A socket's descriptor signals only when commands reach it (libzmq's "something
// changed"), and any operation on the socket may take that signal while messages stay
// queued; so a socket used since its last ZMQ_EVENTS check is dirty: checked again before the
// loop sleeps, and only then trusted to its descriptor (zmq_poll would check every socket
// before and after every wait).
#pragma once

namespace zmesh::detail {

// The zmq sockets the loop waits on, one bit each (reactor::polled_sockets() names them).
enum polled : unsigned {
    polled_commands = 1u << 0,
    polled_router = 1u << 1,
    polled_sub = 1u << 2,
    polled_sub_monitor = 1u << 3,
    polled_zap = 1u << 4,
    polled_dialer_monitor = 1u << 5,
    polled_dialer = 1u << 6,
    polled_pub = 1u << 7,              // subscriptions arriving (XPUB)
    polled_pub_monitor = 1u << 8,      // connections our PUB accepted and lost
    polled_router_monitor = 1u << 9,   // the same for our ROUTER
    polled_all = (1u << 10) - 1,
};

class socket_use {
public:
    socket_use(unsigned& dirty, unsigned bit) noexcept : dirty_(&dirty), bit_(bit) {}
    void operator()() const noexcept { *dirty_ |= bit_; }

private:
    unsigned* dirty_;
    unsigned bit_;
};

}  // namespace zmesh::detail
