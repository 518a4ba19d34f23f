// SPDX-License-Identifier: MPL-2.0
// bind_socket: see bind.hpp.
#include "bind.hpp"

#include "protocol/endpoint.hpp"

#include <stdexcept>

namespace zmesh::detail {

zmq::socket_t bind_socket(zmq::context_t& ctx, zmq::socket_type type, const std::string& host,
                          std::uint16_t port, const char* what, int sndhwm,
                          const std::function<void(zmq::socket_t&)>& configure) {
    zmq::socket_t s(ctx, type);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::sndhwm, sndhwm);
    configure(s);
    const std::string ep = "tcp://" + host + ":" + (port ? std::to_string(port) : std::string("*"));
    try {
        s.bind(ep);
    } catch (const zmq::error_t& e) {
        throw std::runtime_error(std::string("cannot bind ") + what + " to " + ep + ": " + e.what());
    }
    return s;
}

std::uint16_t bound_port(zmq::socket_t& s) {
    const auto ep = protocol::parse_tcp_endpoint(s.get(zmq::sockopt::last_endpoint));
    return ep ? ep->port : 0;
}

}  // namespace zmesh::detail
