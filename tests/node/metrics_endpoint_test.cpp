// SPDX-License-Identifier: MPL-2.0
// options::metrics_endpoint: a node's own /metrics over HTTP, scraped with a plain TCP client;
// what is not a request for /metrics is answered with an error and closed, never held.
#include "node_fixture.hpp"
#include "node/metrics_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace zmesh::test {
namespace {

// Sends `request` to 127.0.0.1:`port` and returns all the server sent until it closed (or
// 5 s passed).
std::string exchange(std::uint16_t port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string got;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        char buffer[4096];
        for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) got.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return got;
}

std::uint64_t sample(const std::string& text, const std::string& series) {
    const auto at = text.find("\n" + series);
    if (at == std::string::npos) return 0;
    const auto value = text.find("} ", at) + 2;
    return std::stoull(text.substr(value, text.find('\n', value) - value));
}

TEST_F(node_fixture, a_node_serves_its_own_metrics_and_answers_anything_else_with_an_error) {
    auto o = make_options("metered");
    o.metrics_endpoint = "127.0.0.1:0";
    auto& n = start(o);
    auto& other = start("other");
    ASSERT_NE(n.metrics_port(), 0);
    ASSERT_TRUE(wait_until([&] { return joined_names(n).size() == 1 && joined_names(other).size() == 1; }, 10s));

    const auto first = exchange(n.metrics_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(first.starts_with("HTTP/1.1 200 OK\r\n")) << first.substr(0, 200);
    EXPECT_NE(first.find("text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(first.find("zmesh_peer_joined{mesh=\"" + mesh_ + "\",peer=\"other\""), std::string::npos);
    const std::string beacons = "zmesh_beacons_sent_total{mesh=\"" + mesh_ + "\",node=\"metered\"";
    const auto before = sample(first, beacons);
    EXPECT_GT(before, 0u);
    ASSERT_TRUE(wait_until([&] {
        return sample(exchange(n.metrics_port(), "GET /metrics HTTP/1.0\r\n\r\n"), beacons) > before;
    }, 10s));

    EXPECT_TRUE(exchange(n.metrics_port(), "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
    EXPECT_TRUE(exchange(n.metrics_port(), "POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    EXPECT_TRUE(exchange(n.metrics_port(), "\x16\x03\x01 garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    // A head that never ends is answered once it reaches the bound, not held.
    EXPECT_TRUE(exchange(n.metrics_port(), "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a'))
                    .starts_with("HTTP/1.1 431"));
    EXPECT_EQ(n.stats().handler_errors, 0u);
}

TEST(metrics_server, an_address_that_is_not_host_port_is_refused_and_a_taken_port_fails_to_start) {
    const auto text = [] { return std::string(); };
    EXPECT_THROW(detail::metrics_server("localhost", text), std::invalid_argument);
    EXPECT_THROW(detail::metrics_server("127.0.0.1:99999", text), std::invalid_argument);
    detail::metrics_server one("127.0.0.1:0", text);
    EXPECT_THROW(detail::metrics_server("127.0.0.1:" + std::to_string(one.port()), text), std::runtime_error);
}

TEST(metrics_server, a_request_is_answered_once_its_head_is_complete) {
    const auto text = [] { return std::string("zmesh_x_total 1\n"); };
    EXPECT_FALSE(detail::metrics_server::answer_to("GET /metrics HTTP/1.1\r\nHost:", text));
    EXPECT_EQ(detail::metrics_server::answer_to("GET /metrics?x=1 HTTP/1.1\r\n\r\n", text)->body, "zmesh_x_total 1\n");
    EXPECT_EQ(detail::metrics_server::answer_to("GET /metricsx HTTP/1.1\r\n\r\n", text)->status, 404);
    EXPECT_EQ(detail::metrics_server::answer_to("nonsense\r\n\r\n", text)->status, 400);
}

}  // namespace
}  // namespace zmesh::test
