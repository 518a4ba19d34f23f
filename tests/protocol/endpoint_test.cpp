// SPDX-License-Identifier: MPL-2.0
// endpoint tests: which "tcp://host:port" strings are dialable and which are refused.
#include "protocol/endpoint.hpp"
#include "protocol/limits.hpp"

#include <gtest/gtest.h>

using zmesh::protocol::parse_tcp_endpoint;
using zmesh::protocol::tcp_endpoint;

TEST(parse_tcp_endpoint, accepts_ipv4_literal) {
    const auto e = parse_tcp_endpoint("tcp://192.0.2.7:5555");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "192.0.2.7");
    EXPECT_EQ(e->port, 5555);
}

TEST(parse_tcp_endpoint, accepts_dns_name_with_dash_and_underscore) {
    const auto e = parse_tcp_endpoint("tcp://node-1.my_lab.example:80");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "node-1.my_lab.example");
    EXPECT_EQ(e->port, 80);
}

TEST(parse_tcp_endpoint, accepts_bracketed_ipv6_splitting_at_last_colon) {
    const auto e = parse_tcp_endpoint("tcp://[::1]:6000");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "[::1]");
    EXPECT_EQ(e->port, 6000);
}

TEST(parse_tcp_endpoint, accepts_port_bounds) {
    ASSERT_TRUE(parse_tcp_endpoint("tcp://h:1"));
    EXPECT_EQ(parse_tcp_endpoint("tcp://h:1")->port, 1);
    ASSERT_TRUE(parse_tcp_endpoint("tcp://h:65535"));
    EXPECT_EQ(parse_tcp_endpoint("tcp://h:65535")->port, 65535);
}

TEST(parse_tcp_endpoint, str_round_trips) {
    const tcp_endpoint e{"10.1.2.3", 4242};
    EXPECT_EQ(e.str(), "tcp://10.1.2.3:4242");
    const auto back = parse_tcp_endpoint(e.str());
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, e);
}

TEST(parse_tcp_endpoint, rejects_port_out_of_range) {
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:0"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:65536"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:70000"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:99999"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:123456"));   // six digits
}

TEST(parse_tcp_endpoint, rejects_non_digit_port) {
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:8o"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:-1"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:+80"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h: 80"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:*"));
}

TEST(parse_tcp_endpoint, rejects_other_schemes_and_shapes) {
    EXPECT_FALSE(parse_tcp_endpoint(""));
    EXPECT_FALSE(parse_tcp_endpoint("h:80"));
    EXPECT_FALSE(parse_tcp_endpoint("udp://h:80"));
    EXPECT_FALSE(parse_tcp_endpoint("ipc://h:80"));
    EXPECT_FALSE(parse_tcp_endpoint("TCP://h:80"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp:/h:80"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://:80"));   // empty host
}

TEST(parse_tcp_endpoint, rejects_wildcard_and_odd_host_characters) {
    EXPECT_FALSE(parse_tcp_endpoint("tcp://*:80"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://a b:80"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://a/b:80"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://a;b:80"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://eth0@x:80"));
    EXPECT_FALSE(parse_tcp_endpoint(std::string_view("tcp://a\0b:80", 12)));
}

TEST(valid_host, accepts_names_ipv4_and_bracketed_ipv6_only) {
    using zmesh::protocol::valid_host;
    EXPECT_TRUE(valid_host("10.0.0.1"));
    EXPECT_TRUE(valid_host("node-1.my_lab.example"));
    EXPECT_TRUE(valid_host("[fe80::1]"));
    EXPECT_FALSE(valid_host(""));
    EXPECT_FALSE(valid_host("*"));
    EXPECT_FALSE(valid_host("fe80::1"));        // unbracketed: the port would be ambiguous
    EXPECT_FALSE(valid_host("[]"));
    EXPECT_FALSE(valid_host("h:80"));
    EXPECT_FALSE(valid_host("tcp://h"));
    EXPECT_FALSE(valid_host("a b"));
}

TEST(parse_tcp_endpoint, limits_host_length) {
    using zmesh::protocol::max_host_len;
    EXPECT_TRUE(parse_tcp_endpoint("tcp://" + std::string(max_host_len, 'a') + ":1"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://" + std::string(max_host_len + 1, 'a') + ":1"));
}

TEST(parse_tcp_endpoint, rejects_very_long_input) {
    EXPECT_FALSE(parse_tcp_endpoint("tcp://" + std::string(10000, 'a') + ":1"));
    EXPECT_FALSE(parse_tcp_endpoint("tcp://h:" + std::string(10000, '1')));
}
