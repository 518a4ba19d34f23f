// SPDX-License-Identifier: MPL-2.0
// gossip_socket: POSIX UDP unicast.
#include "gossip_socket.hpp"

#include "protocol/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace zmesh::discovery {

std::optional<udp_address> udp_address_of(std::string_view tcp_endpoint) {
    const auto e = protocol::parse_tcp_endpoint(tcp_endpoint);
    if (!e) return std::nullopt;
    in_addr a{};
    if (inet_pton(AF_INET, e->host.c_str(), &a) != 1 || e->port == 0) return std::nullopt;
    return udp_address{a.s_addr, e->port};
}

gossip_socket::gossip_socket(const std::string& host, std::uint16_t port) {
    const auto fail = [&](const char* what) {
        const int err = errno;
        if (fd_ >= 0) ::close(fd_);
        throw std::system_error(err, std::generic_category(),
                                std::string(what) + " gossip UDP " + host + ":" + std::to_string(port));
    };
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    if (host == "*" || host == "0.0.0.0") {
        at.sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, host.c_str(), &at.sin_addr) != 1) {
        errno = EINVAL;
        fail("cannot bind (not an IPv4 address)");
    }
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("cannot open");
    // A burst of probes and news from many members at once must not be lost to a small
    // default buffer; the kernel caps what it grants.
    const int buffer = 1 << 20;
    (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) fail("cannot bind");
}

gossip_socket::~gossip_socket() {
    if (fd_ >= 0) ::close(fd_);
}

bool gossip_socket::send(const udp_address& to, std::span<const std::uint8_t> bytes) {
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(to.port);
    at.sin_addr.s_addr = to.ip;
    return ::sendto(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&at),
                    sizeof at) == static_cast<ssize_t>(bytes.size());
}

std::optional<udp_datagram> gossip_socket::receive(std::size_t max_size) {
    udp_datagram d;
    d.bytes.resize(max_size + 1);
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd_, d.bytes.data(), d.bytes.size(), MSG_TRUNC,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return std::nullopt;   // EAGAIN, or a transient error: the next wait tells
    d.bytes.resize(std::min<std::size_t>(static_cast<std::size_t>(n), max_size + 1));
    d.from = {from.sin_addr.s_addr, ntohs(from.sin_port)};
    return d;
}

}  // namespace zmesh::discovery
