// SPDX-License-Identifier: MPL-2.0
// beacon_socket: one non-blocking UDP socket that multicasts beacons on chosen interfaces
// and receives everyone's, shared by any number of processes on the host (SO_REUSEPORT).
#pragma once

#include "interfaces.hpp"
#include "protocol/limits.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace zmesh::discovery {

using protocol::default_beacon_group;
using protocol::default_beacon_port;

struct datagram {
    std::vector<std::uint8_t> bytes;
    std::string source_ip;
};

class beacon_socket {
public:
    // Binds 0.0.0.0:port with SO_REUSEADDR|SO_REUSEPORT, joins `group` on each interface,
    // loops multicast back to this host and keeps it on the link (TTL 1).
    // Throws std::system_error when the socket cannot be bound or no interface can be joined.
    beacon_socket(std::uint16_t port, const std::vector<interface_info>& interfaces,
                  const std::string& group = default_beacon_group);
    ~beacon_socket();
    beacon_socket(const beacon_socket&) = delete;
    beacon_socket& operator=(const beacon_socket&) = delete;

    int fd() const noexcept { return fd_; }

    // Sends `bytes` once out of every interface. Returns: how many sends failed (logged by the
    // caller, never fatal: a NIC may go down while the node runs).
    int send(std::span<const std::uint8_t> bytes);

    // Returns: the next waiting datagram, or nullopt when none is waiting (EAGAIN).
    // Datagrams longer than `max_size` are returned truncated to max_size + 1 bytes so the
    // caller can see and count them as oversized.
    std::optional<datagram> receive(std::size_t max_size);

private:
    int fd_ = -1;
    std::uint16_t port_;
    std::uint32_t group_addr_ = 0;   // network byte order
    std::vector<std::uint32_t> interface_addrs_;
};

}  // namespace zmesh::discovery
