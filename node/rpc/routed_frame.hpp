// SPDX-License-Identifier: MPL-2.0
// routed_frame: an RPC frame read from the node's ROUTER, with what a reply needs to go back
// on the connection it came by.
#pragma once

#include "protocol/rpc.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <span>

namespace zmesh::detail {

struct routed_frame {
    protocol::sender_route route;   // its sender, and the connection it came on
    zmq::message_t& routing;        // that connection's routing id: a reply goes with it
    zmq::message_t& frame;
    // frame's: libzmq is asked once (a call each time).
    std::span<std::uint8_t> bytes;
};

// Where a REPLY goes: back on the connection its REQUEST came by, through the ROUTER, whose
// owner sends it (or counts it dropped).
class reply_port {
public:
    virtual void send_reply(zmq::message_t& routing, zmq::message_t& frame) = 0;

protected:
    ~reply_port() = default;
};

}  // namespace zmesh::detail
