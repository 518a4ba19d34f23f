// SPDX-License-Identifier: MPL-2.0
// handshake_failure: what a failed ZMTP handshake on a connection we dialled was, told from
// libzmq's monitor event and its value, in words and at a level an operator can act on.
#pragma once

#include <zmesh/log.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace zmesh::detail {

enum class handshake_cause {
    timeout,    // no complete handshake in time
    closed,     // the connection closed, was reset or failed before the handshake completed
    protocol,   // a ZMTP protocol error: a plain node meeting a secured one, a bad command
    auth,       // the peer's authentication (ZAP) refused us
};

struct handshake_failure {
    handshake_cause cause;
    log_level level;     // routine causes (timeouts, closed connections) below warn
    std::string text;    // the cause, without the endpoint
    std::uint32_t code;  // what tells one cause from another of its kind: the protocol
                         // error or the ZAP status; 0 for timeouts and closed connections
};

// Returns: what libzmq's monitor event `kind` with its `value` means on a connection we
// dialled, or nullopt when `kind` is no ZMQ_EVENT_HANDSHAKE_FAILED_*. The value is errno for
// NO_DETAIL, a ZMQ_PROTOCOL_ERROR_* for PROTOCOL and the ZAP status for AUTH. `secured`: this
// node runs CURVE (a secured mesh); in a plain one no failure is a key problem.
std::optional<handshake_failure> describe_handshake_failure(std::uint16_t kind, std::uint32_t value,
                                                            bool secured);

}  // namespace zmesh::detail
