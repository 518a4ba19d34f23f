// SPDX-License-Identifier: MPL-2.0
// peer_port: what the node's other components (pubsub, RPC) ask of the mesh about a peer:
// send it something on our link, and tell the mesh it is alive or being called.
#pragma once

#include "protocol/control.hpp"
#include "protocol/node_id.hpp"

#include <zmq.hpp>

#include <chrono>

namespace zmesh::detail {

class peer_port {
public:
    // Sends `msg` to `peer` on our link to it (nothing when there is none; counted when it
    // cannot go).
    virtual void send_to_peer(const protocol::node_id& peer, const protocol::control& msg) = 0;
    // Sends an encoded frame to `peer` on our link. Returns: whether it was queued.
    virtual bool send_on_link(const protocol::node_id& peer, zmq::message_t& frame) = 0;
    // Traffic came from `peer` by another way than its link: a sign of life.
    virtual void peer_alive(const protocol::node_id& peer, std::chrono::steady_clock::time_point now) = 0;
    // A call went to `peer` on its call link: our link to it counts as used.
    virtual void peer_called(const protocol::node_id& peer) = 0;

protected:
    ~peer_port() = default;
};

}  // namespace zmesh::detail
