// SPDX-License-Identifier: MPL-2.0
// endpoint: the "tcp://host:port" strings peers dial, parsed and checked without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zmesh::protocol {

struct tcp_endpoint {
    std::string host;   // IPv4 literal, bracketed IPv6 literal, or DNS name
    std::uint16_t port = 0;

    std::string str() const { return "tcp://" + host + ":" + std::to_string(port); }
    bool operator==(const tcp_endpoint&) const = default;
};

// Returns: the endpoint, or nullopt unless `s` is "tcp://HOST:PORT" with a non-empty host
// made of [A-Za-z0-9.-:[]_] and a port in 1..65535. Wildcards ("*") are refused: they
// cannot be dialled.
std::optional<tcp_endpoint> parse_tcp_endpoint(std::string_view s);

}  // namespace zmesh::protocol
