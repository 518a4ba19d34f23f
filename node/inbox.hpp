// SPDX-License-Identifier: MPL-2.0
// inbox: the node's ROUTER, where peers' links and call links bring control messages and
// REQUESTs (and where REPLYs go back on the connection their REQUEST came by). It bounds
// what a connection may send before the first one is accepted, tells each message's kind,
// and hands it on only when the security rules admit it; what does not read is counted.
#pragma once

#include "context.hpp"
#include "listeners.hpp"
#include "rpc/routed_frame.hpp"
#include "security/security.hpp"
#include "socket_use.hpp"
#include "protocol/control.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <functional>
#include <optional>

namespace zmesh::detail {

// Where the inbox hands what it read.
class inbox_reader {
public:
    // A REQUEST or REPLY (`type`) from the node `in.route` names, admitted.
    virtual void on_rpc(routed_frame& in, std::uint8_t type) = 0;
    // A control message, admitted; `sender`: what its routing id holds (none: not a node's).
    // A stream frame (protocol/stream.hpp: `type` 0x30..0x3f) from the node `sender` names,
    // admitted.
    virtual void on_stream(const protocol::sender_route& sender, std::span<const std::uint8_t> frame,
                           std::uint8_t type) = 0;
    virtual void on_control(const std::optional<protocol::sender_route>& sender, protocol::control& msg) = 0;

protected:
    ~inbox_reader() = default;
};

class inbox final : public reply_port {
public:
    // Binds the ROUTER to the options' host and port, watched by `l`, secured by `sec`.
    // Throws std::runtime_error with a one-line message when it cannot bind.
    inbox(node_context& ctx, zmq::context_t& net, security& sec, listeners& l, socket_use router_used);

    zmq::socket_t& socket() noexcept { return router_; }
    std::uint16_t port() const noexcept { return port_; }

    // Reads what the ROUTER holds, a batch at most. `between` runs before each message
    // (what the last one's handler asked for goes out first) and stops the read when it
    // returns false. Returns: true when read until empty.
    bool on_readable(const std::function<bool()>& between, inbox_reader& reader);
    // Sends a REPLY back on the connection whose routing id at our ROUTER is `routing`, or
    // counts it dropped (the caller gone, or its queue full).
    void send_reply(zmq::message_t& routing, zmq::message_t& frame) override;
    void close() { router_.close(); }

private:
    // Returns: whether a frame claiming to come from `claimed` may be read (secured: its
    // connection's key holds that id); the key is recorded for revocation.
    bool admits(const std::optional<protocol::node_id>& claimed, zmq::message_t& frame);

    node_context& ctx_;
    security& security_;
    listeners& listeners_;
    socket_use router_used_;
    zmq::socket_t router_;
    std::uint16_t port_ = 0;
};

}  // namespace zmesh::detail
