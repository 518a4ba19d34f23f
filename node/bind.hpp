// SPDX-License-Identifier: MPL-2.0
// bind_socket: opening a socket a node listens on, with its options in force before the
// first connection.
#pragma once

#include <zmq.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace zmesh::detail {

// Returns: a socket of `type` bound to tcp://host:port (port 0: any). `sndhwm` and
// `configure` apply before bind: a listener copies the socket's options when it binds, and
// the connections it accepts get that copy. Throws std::runtime_error ("cannot bind
// `what` to ...") when it cannot bind.
zmq::socket_t bind_socket(zmq::context_t& ctx, zmq::socket_type type, const std::string& host,
                          std::uint16_t port, const char* what, int sndhwm,
                          const std::function<void(zmq::socket_t&)>& configure);
// Returns: the TCP port `s` is bound to, or 0.
std::uint16_t bound_port(zmq::socket_t& s);

}  // namespace zmesh::detail
