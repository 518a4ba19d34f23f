// SPDX-License-Identifier: MPL-2.0
// gossip_socket: the UDP socket a member takes gossip datagrams on (PROTOCOL.md §16), bound
// to the port number of its ROUTER endpoint — TCP and UDP ports are separate spaces, so a
// member's one advertised endpoint names both, as memberlist does. Unicast, IPv4, never
// blocking.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zmesh::discovery {

// Where a member takes gossip: the host and port of its ROUTER endpoint.
struct udp_address {
    std::uint32_t ip = 0;     // network byte order
    std::uint16_t port = 0;   // host byte order
    bool operator==(const udp_address&) const = default;
};

// Returns: the UDP address of "tcp://A.B.C.D:PORT", or nothing for any other form (a host
// name would need a resolver the reactor cannot wait for; IPv6 is not gossiped yet).
std::optional<udp_address> udp_address_of(std::string_view tcp_endpoint);

struct udp_datagram {
    std::vector<std::uint8_t> bytes;
    udp_address from;   // the sender's socket: a member sends from its gossip port
};

class gossip_socket {
public:
    // Binds `host` ("*" or "0.0.0.0": every address; else a dotted IPv4 address) at `port`.
    // Throws std::system_error (with a one-line message naming the port) when it cannot.
    gossip_socket(const std::string& host, std::uint16_t port);
    ~gossip_socket();
    gossip_socket(const gossip_socket&) = delete;
    gossip_socket& operator=(const gossip_socket&) = delete;

    int fd() const noexcept { return fd_; }
    // Sends one datagram. Returns: false when the kernel would not take it (a full buffer,
    // an unreachable network): gossip tolerates loss, the caller counts it.
    bool send(const udp_address& to, std::span<const std::uint8_t> bytes);
    // Returns: the next waiting datagram, or nothing when none waits. One longer than
    // `max_size` comes truncated to max_size + 1 bytes, so that the caller sees and counts it.
    std::optional<udp_datagram> receive(std::size_t max_size);

private:
    int fd_ = -1;
};

}  // namespace zmesh::discovery
