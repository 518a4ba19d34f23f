// SPDX-License-Identifier: MPL-2.0
// beacon_socket: POSIX UDP multicast.
#include "beacon_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace zmesh::discovery {

namespace {
[[noreturn]] void fail(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void set_int(int fd, int level, int option, int value, const char* what) {
    if (setsockopt(fd, level, option, &value, sizeof value) != 0) fail(what);
}
}  // namespace

beacon_socket::beacon_socket(std::uint16_t port, const std::vector<interface_info>& interfaces,
                             const std::string& group)
    : port_(port) {
    in_addr group_in{};
    if (inet_pton(AF_INET, group.c_str(), &group_in) != 1)
        throw std::system_error(EINVAL, std::generic_category(), "beacon group " + group);
    group_addr_ = group_in.s_addr;

    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("beacon socket");
    try {
        // Several nodes on one host share the port: each gets its own copy of every
        // multicast datagram. No root needed.
        set_int(fd_, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
        set_int(fd_, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            fail("bind beacon port " + std::to_string(port));
        set_int(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, 1, "IP_MULTICAST_LOOP");
        set_int(fd_, IPPROTO_IP, IP_MULTICAST_TTL, 1, "IP_MULTICAST_TTL");

        for (const auto& i : interfaces) {
            in_addr if_in{};
            if (inet_pton(AF_INET, i.ip.c_str(), &if_in) != 1) continue;
            ip_mreq mreq{};
            mreq.imr_multiaddr = group_in;
            mreq.imr_interface = if_in;
            // EADDRINUSE: this socket already joined the group there (an alias address).
            if (setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0 &&
                errno != EADDRINUSE)
                continue;
            interface_addrs_.push_back(if_in.s_addr);
        }
        if (interface_addrs_.empty()) fail("join beacon group " + group + " on any interface");
    } catch (...) {
        close(fd_);
        throw;
    }
}

beacon_socket::~beacon_socket() {
    if (fd_ >= 0) close(fd_);
}

int beacon_socket::send(std::span<const std::uint8_t> bytes) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_);
    to.sin_addr.s_addr = group_addr_;
    int failures = 0;
    for (auto if_addr : interface_addrs_) {
        in_addr via{};
        via.s_addr = if_addr;
        const bool ok =
            setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof via) == 0 &&
            sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof to) == static_cast<ssize_t>(bytes.size());
        if (!ok) ++failures;
    }
    return failures;
}

std::optional<datagram> beacon_socket::receive(std::size_t max_size) {
    datagram d;
    d.bytes.resize(max_size + 1);
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = recvfrom(fd_, d.bytes.data(), d.bytes.size(), MSG_TRUNC,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return std::nullopt;   // EAGAIN, or a transient error: try again next poll
    // MSG_TRUNC makes n the real length; keep at most max_size + 1 bytes.
    d.bytes.resize(std::min<std::size_t>(static_cast<std::size_t>(n), max_size + 1));
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &from.sin_addr, buf, sizeof buf);
    d.source_ip = buf;
    return d;
}

}  // namespace zmesh::discovery
