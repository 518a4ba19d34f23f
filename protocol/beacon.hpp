// SPDX-License-Identifier: MPL-2.0
// beacon: the UDP datagram a node multicasts so others on the link can find it.
//
//  offset  size  field
//  0       4     magic "ZMSH"
//  4       1     version (1)
//  5       1     flags, reserved: sent as 0, ignored on receipt
//  6       n     msgpack array: [mesh str, id bin16, name str, host str, pub_port uint,
//                                router_port uint, ...ignored trailing fields]
//  total <= 512 bytes. An empty host means "dial the address this datagram came from".
#pragma once

#include "limits.hpp"
#include "node_id.hpp"
#include "result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace zmesh::protocol {

inline constexpr std::uint8_t beacon_magic[4] = {'Z', 'M', 'S', 'H'};

struct beacon {
    std::string mesh;
    node_id id;
    std::string name;
    std::string host;   // may be empty: use the datagram's source address
    std::uint16_t pub_port = 0;
    std::uint16_t router_port = 0;

    bool operator==(const beacon&) const = default;
};

// Returns: the datagram for `b`. Throws std::length_error when a field is over its limit
// (a programmer or configuration error: node options are validated before this is reached).
std::vector<std::uint8_t> encode_beacon(const beacon& b);

// Returns: the beacon in `datagram`, or an errc for any input that is not a valid
// version-1 beacon. Never throws.
result<beacon> decode_beacon(std::span<const std::uint8_t> datagram);

}  // namespace zmesh::protocol
