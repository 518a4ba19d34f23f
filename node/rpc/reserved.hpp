// SPDX-License-Identifier: MPL-2.0
// reserved: requests for methods the node answers itself (PROTOCOL.md §15), which the RPC
// server hands over before it looks at the application's methods. They are not advertised
// in HELLO: a caller names the member (call_peer, call_named).
#pragma once

#include "protocol/node_id.hpp"
#include "protocol/rpc.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

namespace zmesh::detail {

// Where the reply to one request goes, kept until it is answered (at once, or once stored).
struct pending_reply {
    protocol::sender_route caller;
    std::uint64_t id = 0;
};

class reserved_methods {
public:
    // A request for `method` from member `caller`, its arguments one msgpack object (checked).
    // Returns: false when `method` is none of these (the server goes on with its own).
    virtual bool on_reserved(const protocol::node_id& caller, std::string_view method,
                             std::span<const std::uint8_t> args, const pending_reply& reply) = 0;

protected:
    ~reserved_methods() = default;
};

}  // namespace zmesh::detail
