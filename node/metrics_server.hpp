// SPDX-License-Identifier: MPL-2.0
// metrics_server: options::metrics_endpoint — a node's own /metrics (node::metrics()) over
// HTTP/1.x, for Prometheus to scrape. Its own thread and a ZMQ_STREAM socket (raw TCP through
// libzmq, no HTTP library in the node): it reads a request line and headers, answers GET
// /metrics (404 elsewhere, 400 for what is not HTTP) and closes the connection. Requests are
// bounded in size and connections in number, so a client can hold neither memory nor the
// thread.
#pragma once

#include <zmq.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace zmesh::detail {

class metrics_server {
public:
    // Serves `text()` at http://HOST:PORT/metrics (`address`: "HOST:PORT", PORT 0 any). Throws
    // std::invalid_argument for an address that is not HOST:PORT, std::runtime_error when it
    // cannot bind.
    metrics_server(const std::string& address, std::function<std::string()> text);
    ~metrics_server();
    metrics_server(const metrics_server&) = delete;
    metrics_server& operator=(const metrics_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }

    // What a request asks for, once its head is complete: the response to send, or nothing
    // while more bytes are needed. Pure, for tests.
    struct answer {
        int status = 200;
        std::string body;
    };
    static std::optional<answer> answer_to(std::string_view head, const std::function<std::string()>& text);

    static constexpr std::size_t max_request = 8 * 1024;   // bytes of a request's head
    static constexpr std::size_t max_connections = 64;

private:
    void run(std::stop_token stop);

    std::function<std::string()> text_;
    zmq::context_t ctx_{1};
    zmq::socket_t socket_;
    std::uint16_t port_ = 0;
    std::jthread thread_;
};

}  // namespace zmesh::detail
