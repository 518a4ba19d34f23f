// SPDX-License-Identifier: MPL-2.0
// beacon_socket tests: shared-port multicast on loopback only. No datagram leaves the host:
// every socket here is given the loopback interface and nothing else.
#include "discovery/beacon_socket.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <system_error>

using namespace zmesh::discovery;
using namespace std::chrono_literals;

namespace {

std::vector<interface_info> loopback_only() {
    return {{"lo", "127.0.0.1", true, true, false, false, false}};
}

// Returns: a UDP port that was free on 127.0.0.1 a moment ago.
std::uint16_t free_udp_port() {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    close(fd);
    if (!ok) throw std::system_error(errno, std::generic_category(), "bind port 0");
    return ntohs(addr.sin_port);
}

// Returns: the next datagram on `s`, waiting on its fd until `timeout` has passed.
std::optional<datagram> receive_within(beacon_socket& s, std::size_t max_size,
                                       std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (auto d = s.receive(max_size)) return d;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) return std::nullopt;
        pollfd p{s.fd(), POLLIN, 0};
        poll(&p, 1, static_cast<int>(left.count()) + 1);
    }
}

std::vector<std::uint8_t> payload(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
    return b;
}

constexpr auto patience = 3000ms;

}  // namespace

TEST(beacon_socket, two_sockets_on_one_port_both_receive) {
    const auto port = free_udp_port();
    beacon_socket a(port, loopback_only()), b(port, loopback_only());
    const auto sent = payload(100, 1);
    ASSERT_EQ(a.send(sent), 0);
    for (beacon_socket* s : {&b, &a}) {   // the sender hears itself too (multicast loop)
        const auto d = receive_within(*s, 512, patience);
        ASSERT_TRUE(d);
        EXPECT_EQ(d->bytes, sent);
        EXPECT_EQ(d->source_ip, "127.0.0.1");
    }
}

TEST(beacon_socket, each_send_reaches_the_other_socket) {
    const auto port = free_udp_port();
    beacon_socket a(port, loopback_only()), b(port, loopback_only());
    ASSERT_EQ(b.send(payload(10, 2)), 0);
    ASSERT_EQ(b.send(payload(20, 3)), 0);
    const auto first = receive_within(a, 512, patience);
    const auto second = receive_within(a, 512, patience);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->bytes, payload(10, 2));
    EXPECT_EQ(second->bytes, payload(20, 3));
}

TEST(beacon_socket, receive_returns_nullopt_when_nothing_is_waiting) {
    beacon_socket s(free_udp_port(), loopback_only());
    EXPECT_FALSE(s.receive(512));
    ASSERT_EQ(s.send(payload(5, 4)), 0);
    ASSERT_TRUE(receive_within(s, 512, patience));
    // Drain any loopback duplicate, then the queue is empty again.
    while (receive_within(s, 512, 50ms)) {
    }
    EXPECT_FALSE(s.receive(512));
}

TEST(beacon_socket, oversized_datagram_is_cut_to_max_size_plus_one) {
    const auto port = free_udp_port();
    beacon_socket a(port, loopback_only()), b(port, loopback_only());
    const auto sent = payload(2000, 5);
    ASSERT_EQ(a.send(sent), 0);
    const auto d = receive_within(b, 512, patience);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->bytes.size(), 513u);
    EXPECT_TRUE(std::equal(d->bytes.begin(), d->bytes.end(), sent.begin()));
}

TEST(beacon_socket, datagram_of_exactly_max_size_arrives_whole) {
    const auto port = free_udp_port();
    beacon_socket a(port, loopback_only()), b(port, loopback_only());
    const auto sent = payload(512, 6);
    ASSERT_EQ(a.send(sent), 0);
    const auto d = receive_within(b, 512, patience);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->bytes, sent);
}

TEST(beacon_socket, other_ports_do_not_hear_it) {
    const auto port = free_udp_port();
    auto other_port = free_udp_port();
    while (other_port == port) other_port = free_udp_port();
    beacon_socket a(port, loopback_only()), b(port, loopback_only());
    beacon_socket elsewhere(other_port, loopback_only());
    ASSERT_EQ(a.send(payload(8, 7)), 0);
    ASSERT_TRUE(receive_within(b, 512, patience));
    // b's copy has arrived, so any copy for `elsewhere` would have been queued with it.
    EXPECT_FALSE(receive_within(elsewhere, 512, 100ms));
}

TEST(beacon_socket, fd_is_open_and_non_blocking) {
    beacon_socket s(free_udp_port(), loopback_only());
    ASSERT_GE(s.fd(), 0);
    const int flags = fcntl(s.fd(), F_GETFL);
    ASSERT_NE(flags, -1);
    EXPECT_TRUE(flags & O_NONBLOCK);
}

TEST(beacon_socket, destructor_closes_fd) {
    int fd = -1;
    {
        beacon_socket s(free_udp_port(), loopback_only());
        fd = s.fd();
        ASSERT_NE(fcntl(fd, F_GETFD), -1);
    }
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

TEST(beacon_socket, throws_on_bad_group) {
    EXPECT_THROW(beacon_socket(free_udp_port(), loopback_only(), "not-a-group"),
                 std::system_error);
}

TEST(beacon_socket, throws_when_no_interface_can_join) {
    EXPECT_THROW(beacon_socket(free_udp_port(), {}), std::system_error);
    const std::vector<interface_info> bogus = {{"x", "not-an-ip", false, true, true, false, false}};
    EXPECT_THROW(beacon_socket(free_udp_port(), bogus), std::system_error);
}
