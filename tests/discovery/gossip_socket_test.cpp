// SPDX-License-Identifier: MPL-2.0
// gossip_socket on loopback: addresses from ROUTER endpoints, one datagram each way with the
// sender's port as its source, a port already taken named in the error, and oversized
// datagrams handed back truncated so that they can be counted.
#include "discovery/gossip_socket.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>

using namespace zmesh::discovery;

namespace {

// Returns: a UDP port free on loopback now.
std::uint16_t free_udp_port() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::optional<udp_datagram> receive_within(gossip_socket& s, std::size_t max, int ms) {
    pollfd p{s.fd(), POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return std::nullopt;
    return s.receive(max);
}

}  // namespace

TEST(gossip_address, is_the_host_and_port_of_a_numeric_router_endpoint) {
    const auto a = udp_address_of("tcp://127.0.0.1:4567");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 4567);
    EXPECT_EQ(a->ip, htonl(INADDR_LOOPBACK));
    EXPECT_FALSE(udp_address_of("tcp://example.org:4567"));   // no resolver on the reactor
    EXPECT_FALSE(udp_address_of("tcp://[::1]:4567"));
    EXPECT_FALSE(udp_address_of("udp://127.0.0.1:4567"));
    EXPECT_FALSE(udp_address_of("tcp://127.0.0.1:0"));
    EXPECT_FALSE(udp_address_of("garbage"));
}

TEST(gossip_socket, carries_a_datagram_with_the_senders_port_as_its_source) {
    const auto pa = free_udp_port(), pb = free_udp_port();
    gossip_socket a("127.0.0.1", pa), b("127.0.0.1", pb);
    const std::vector<std::uint8_t> bytes{1, 2, 3};
    ASSERT_TRUE(a.send(*udp_address_of("tcp://127.0.0.1:" + std::to_string(pb)), bytes));
    const auto d = receive_within(b, 1400, 5000);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->bytes, bytes);
    EXPECT_EQ(d->from.port, pa);
    EXPECT_FALSE(b.receive(1400));   // nothing else waits, and it does not block
}

TEST(gossip_socket, hands_back_an_oversized_datagram_truncated_to_one_past_the_limit) {
    const auto pa = free_udp_port(), pb = free_udp_port();
    gossip_socket a("127.0.0.1", pa), b("*", pb);
    const std::vector<std::uint8_t> big(3000, 0x5a);
    ASSERT_TRUE(a.send(*udp_address_of("tcp://127.0.0.1:" + std::to_string(pb)), big));
    const auto d = receive_within(b, 1400, 5000);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->bytes.size(), 1401u);
}

TEST(gossip_socket, a_port_taken_is_an_error_naming_it) {
    const auto p = free_udp_port();
    gossip_socket first("127.0.0.1", p);
    try {
        gossip_socket second("127.0.0.1", p);
        FAIL() << "bound twice";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find(std::to_string(p)), std::string::npos) << e.what();
    }
    EXPECT_THROW(gossip_socket("not-an-address", free_udp_port()), std::system_error);
}
