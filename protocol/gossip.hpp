// SPDX-License-Identifier: MPL-2.0
// gossip: the UDP datagram of membership by gossip (PROTOCOL.md §16.2; docs/scale.md), one
// member to another, unicast to the port number of the receiver's router endpoint.
//
//  offset  size  field
//  0       4     magic "ZMGS"
//  4       1     version (1)
//  5       1     type: ping 1, ping_req 2, ack 3, nack 4
//  6       n     msgpack array: [mesh str, from bin16, seq uint, target bin16,
//                                [update...], ...ignored trailing fields]
//                update: [id bin16, incarnation uint, state uint, by bin16, meta bin,
//                         ...ignored trailing fields]
//  total <= max_gossip_size: what fits an Ethernet frame without fragments.
//
// `by` is the all-zero id when no member is named (only a suspicion names one); `meta` is
// empty unless the state is alive, and then member_meta.hpp's bytes.
#pragma once

#include "limits.hpp"
#include "node_id.hpp"
#include "result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace zmesh::protocol {

inline constexpr std::uint8_t gossip_magic[4] = {'Z', 'M', 'G', 'S'};
inline constexpr std::size_t max_gossip_size = 1400;
inline constexpr std::size_t max_gossip_updates = 16;   // in one datagram
// The largest datagram before its updates: magic, version, type, the array's header, the
// longest mesh, from, seq, target, the updates' array header.
inline constexpr std::size_t max_gossip_header_size = 6 + 3 + max_mesh_len + 2 + 18 + 5 + 18 + 3;
// The bytes of updates every datagram has room for, whatever its mesh.
inline constexpr std::size_t gossip_updates_room = max_gossip_size - max_gossip_header_size;
// One update of the largest meta fits a datagram with room to spare.
static_assert(max_gossip_update_size < gossip_updates_room);

enum class gossip_status : std::uint8_t {
    alive = 0,
    suspect = 1,   // missed a probe, direct and indirect; may still refute
    dead = 2,      // suspected past its timeout, and never refuted
    left = 3,      // said so itself
};

// What one member reports about another (or itself).
struct gossip_update {
    node_id id;
    std::uint32_t incarnation = 0;   // raised only by the member itself, to refute
    gossip_status state = gossip_status::alive;
    node_id by;                      // suspect: who suspects it; else the zero id
    std::string meta;                // alive: what the member says of itself; else ""
    bool operator==(const gossip_update&) const = default;
};

enum class gossip_kind : std::uint8_t {
    ping = 1,       // "are you there?" — answered by ack
    ping_req = 2,   // "probe `target` for me": the receiver pings it and relays the ack
    ack = 3,
    nack = 4,       // a relay's "the target did not answer me"
};

struct gossip_message {
    gossip_kind type = gossip_kind::ping;
    std::uint32_t seq = 0;                // the prober's: an ack or nack carries its ping's
    node_id target;                       // ping: who it is for; ping_req: whom to probe
    std::vector<gossip_update> updates;   // piggybacked news, 0..max_gossip_updates
    bool operator==(const gossip_message&) const = default;
};

struct gossip_datagram {
    std::string mesh;   // 1..max_mesh_len
    node_id from;       // the sender: not the zero id
    gossip_message message;
    bool operator==(const gossip_datagram&) const = default;
};

// Returns: the bytes `u` takes in a datagram (or a MEMBERS message).
std::size_t gossip_update_size(const gossip_update& u);

// Returns: the datagram of `d`, with as many of its updates, in order, as fit
// max_gossip_size (and max_gossip_updates); `written`, when given, is told how many.
// Throws std::length_error for a mesh, or a meta, over its bound (a programmer error).
std::vector<std::uint8_t> encode_gossip(const gossip_datagram& d, std::size_t* written = nullptr);

// Returns: the datagram's content, or an errc: bad_magic, truncated, bad_version,
// unknown_type, oversized (the datagram, a meta, or more than max_gossip_updates),
// bad_msgpack, wrong_type, bad_field (an empty mesh, a zero sender or member id, a state
// out of range, meta on a state other than alive, a seq over 32 bits). Never throws.
result<gossip_datagram> decode_gossip(std::span<const std::uint8_t> datagram);

}  // namespace zmesh::protocol
