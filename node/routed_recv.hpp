// SPDX-License-Identifier: MPL-2.0
// recv_routed: reading one message of a ROUTER socket as the node's sockets carry them, a
// routing id and one frame.
#pragma once

#include <zmq.hpp>

namespace zmesh::detail {

// Reads one message of a ROUTER: its routing id, and in `frame` the frame after it, any
// further frames drained. Returns: false when none is waiting; `one_frame` tells whether
// exactly one frame followed the routing id.
inline bool recv_routed(zmq::socket_t& s, zmq::message_t& routing, zmq::message_t& frame, bool& one_frame) {
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

}  // namespace zmesh::detail
