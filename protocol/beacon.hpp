// SPDX-License-Identifier: MPL-2.0
// beacon: the UDP datagram a node multicasts so others on the link can find it.
//
//  offset  size  field
//  0       4     magic "ZMSH"
//  4       1     version (1)
//  5       1     flags: bit 0 "signed", bit 1 "asking" (revision 14); other bits sent as
//                0, ignored on receipt
//  6       n     msgpack array: [mesh str, id bin16, name str, host str, pub_port uint,
//                                router_port uint, ...ignored trailing fields]
//                signed: a 7th field sent_us uint (sender's clock, µs since the epoch)
//  6+n     32    signed only: HMAC-SHA256 of bytes 0..6+n, keyed with the mesh secret
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
    bool is_signed = false;      // decoded from a signed beacon (MAC not checked by decode)
    // An observer that knows no member yet asks the members that hear it to beacon soon,
    // and is not dialled (PROTOCOL.md §5.2 rule 4, §5.3 rule 5).
    bool asking = false;
    std::uint64_t sent_us = 0;   // signed beacons only: against replays

    bool operator==(const beacon&) const = default;
};

inline constexpr std::uint8_t beacon_flag_signed = 0x01;
inline constexpr std::uint8_t beacon_flag_asking = 0x02;
inline constexpr std::size_t beacon_mac_size = 32;
inline constexpr std::size_t min_mesh_secret_size = 16;

// Returns: the datagram for `b`. Throws std::length_error when a field is over its limit
// (a programmer or configuration error: node options are validated before this is reached).
std::vector<std::uint8_t> encode_beacon(const beacon& b);

// Returns: the signed datagram for `b` at time `sent_us`, keyed with `secret` (at least
// min_mesh_secret_size bytes). Throws as encode_beacon, and std::invalid_argument for a
// short secret.
std::vector<std::uint8_t> encode_signed_beacon(const beacon& b, std::uint64_t sent_us,
                                               std::span<const std::uint8_t> secret);

// Returns: the beacon in `datagram`, or an errc for any input that is not a valid
// version-1 beacon, signed or not (a signed one's MAC is not checked here). Never throws.
result<beacon> decode_beacon(std::span<const std::uint8_t> datagram);

// Returns: true when `datagram` is signed and its MAC is right for `secret`. Constant time.
bool beacon_mac_ok(std::span<const std::uint8_t> datagram, std::span<const std::uint8_t> secret);

}  // namespace zmesh::protocol
