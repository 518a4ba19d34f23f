// SPDX-License-Identifier: MPL-2.0
// endpoint: strict parsing of dialable tcp endpoints.
#include "endpoint.hpp"

#include "limits.hpp"

#include <algorithm>
#include <cctype>

namespace zmesh::protocol {

bool valid_host(std::string_view host) noexcept {
    if (host.empty() || host.size() > max_host_len) return false;
    const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    return std::all_of(host.begin(), host.end(), [bracketed](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '-' || c == '_' || (bracketed && c == ':');
    });
}

std::optional<tcp_endpoint> parse_tcp_endpoint(std::string_view s) {
    constexpr std::string_view scheme = "tcp://";
    if (s.size() > max_endpoint_len || !s.starts_with(scheme)) return std::nullopt;
    s.remove_prefix(scheme.size());
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
    if (!valid_host(host) || port.empty() || port.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    return tcp_endpoint{std::string(host), static_cast<std::uint16_t>(value)};
}

}  // namespace zmesh::protocol
