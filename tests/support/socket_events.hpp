// SPDX-License-Identifier: MPL-2.0
// socket_events: what libzmq's monitor reports of one of a test's own sockets: that its
// connection finished its handshake, that the other side dropped it. How a test sees a node
// cut a connection.
#pragma once

#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

namespace zmesh::test {

class socket_events {
public:
    // Watches `s` for events of kinds `events` (ZMQ_EVENT_*): before it connects.
    socket_events(zmq::context_t& ctx, zmq::socket_t& s, int events) : socket_(s) {
        static std::atomic<int> next_id{0};
        const std::string endpoint = "inproc://socket_events_" + std::to_string(next_id++);
        zmq_socket_monitor(s.handle(), endpoint.c_str(), events);
        pair_ = zmq::socket_t(ctx, zmq::socket_type::pair);
        pair_.connect(endpoint);
    }
    socket_events(const socket_events&) = delete;
    socket_events& operator=(const socket_events&) = delete;
    ~socket_events() { zmq_socket_monitor(socket_.handle(), nullptr, 0); }

    // Returns: the kind of the next event, or 0 when none came within `timeout`.
    int next(std::chrono::milliseconds timeout) {
        zmq::pollitem_t item{pair_.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, timeout) <= 0) return 0;
        zmq::message_t kind, address;
        (void)pair_.recv(kind);
        (void)pair_.recv(address);
        std::uint16_t id = 0;
        std::memcpy(&id, kind.data(), sizeof id);
        return id;
    }

private:
    zmq::socket_t& socket_;
    zmq::socket_t pair_;
};

}  // namespace zmesh::test
