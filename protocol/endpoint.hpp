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

// Returns: whether `host` can be dialled: 1..253 bytes of [A-Za-z0-9.-_] (a DNS name or IPv4
// literal), or an IPv6 literal in brackets. Wildcards ("*") are refused.
bool valid_host(std::string_view host) noexcept;

// Returns: the endpoint, or nullopt unless `s` is "tcp://HOST:PORT" with a valid_host and a
// port in 1..65535.
std::optional<tcp_endpoint> parse_tcp_endpoint(std::string_view s);

}  // namespace zmesh::protocol
