// SPDX-License-Identifier: MPL-2.0
// member_meta: what a member says of itself in its `alive` gossip updates (PROTOCOL.md §16.4),
// the `meta` bytes of gossip.hpp's gossip_update:
//
//   msgpack array [name str, pub_endpoint str, router_endpoint str, flags uint,
//                  services array of str, (publishes array of str,) ...ignored trailing fields]
//   flags: bit 0 observer, bit 1 services incomplete (the member's HELLO lists them all),
//          bit 2 publishes listed (the sixth field is there, and every topic the member
//          publishes starts with one of its prefixes; without it, the member may publish
//          anything)
//   total <= max_gossip_meta
#pragma once

#include "limits.hpp"
#include "result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace zmesh::protocol {

inline constexpr std::uint8_t member_flag_observer = 0x01;
inline constexpr std::uint8_t member_flag_services_incomplete = 0x02;
inline constexpr std::uint8_t member_flag_publishes_listed = 0x04;
// Past this many distinct prefixes a member no longer lists what it publishes.
inline constexpr std::size_t max_published_prefixes = 16;

struct member_meta {
    std::string name;              // 1..max_name_len
    std::string pub_endpoint;      // tcp://host:port, as HELLO's
    std::string router_endpoint;   // tcp://host:port, as HELLO's; its port number is also the member's UDP gossip port
    bool observer = false;
    std::vector<std::string> services;   // methods served, sorted, unique, each 1..max_service_len
    bool services_complete = true;       // false: more than fit in the meta; the member's HELLO lists them all
    // The prefixes of every topic the member publishes, sorted, unique, each
    // 1..max_topic_len; false: not listed, it may publish anything (PROTOCOL.md §16.4).
    bool publishes_listed = false;
    std::vector<std::string> publishes;
    bool operator==(const member_meta&) const = default;
};

// Returns: the meta bytes of `m`, at most max_gossip_meta: as many of its services, in order,
// as fit (and at most max_services), services_complete written false when some did not or
// when `m` says so; its published prefixes when listed and all of them fit after the
// services (at most max_published_prefixes), else none and not listed. Throws std::length_error when the name or an endpoint is empty or over
// its bound, or a service is empty or over max_service_len (a programmer error: the node
// checks its own configuration first).
std::string encode_member_meta(const member_meta& m);

// Returns: the meta, its services sorted and unique, or an errc: oversized (over
// max_gossip_meta, a string over its bound, more than max_services), truncated, bad_msgpack
// (not exactly one msgpack object, empty input included), wrong_type (not an array of at
// least 5, a field of another type, publishes listed without its array), bad_field (an empty
// name, service or prefix, an endpoint that is not tcp://host:port (§2.3), flags over 255). Ignores trailing fields and unknown flag bits.
// Never throws.
result<member_meta> decode_member_meta(std::span<const std::uint8_t> meta);

}  // namespace zmesh::protocol
