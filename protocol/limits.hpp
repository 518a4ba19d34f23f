// SPDX-License-Identifier: MPL-2.0
// Wire constants shared by every codec: version, magic and the size limits of PROTOCOL.md.
// Those an application meets too are public (<zmesh/limits.hpp>) and named here as well.
#pragma once

#include <zmesh/limits.hpp>

#include <cstddef>
#include <cstdint>

namespace zmesh::protocol {

using zmesh::default_beacon_port;
using zmesh::default_max_event_size;
using zmesh::max_mesh_len;
using zmesh::max_name_len;
using zmesh::max_service_len;
using zmesh::max_subscription_bytes;
using zmesh::max_subscriptions;
using zmesh::max_topic_len;

inline constexpr std::uint8_t version = 1;           // the only version this build speaks

// Beacons (§5.2): the multicast group (the port is default_beacon_port).
inline constexpr const char* default_beacon_group = "239.255.77.77";

inline constexpr std::size_t max_host_len = 253;     // DNS name or IP literal
inline constexpr std::size_t max_endpoint_len = 300; // "tcp://" host ":" port, with room
inline constexpr std::size_t max_beacon_size = 512;  // one UDP datagram
inline constexpr std::size_t max_control_size = 256 * 1024;  // one control frame
// A full PEERS list of maximal entries must fit one control frame, so a sender never has
// to guess: each entry is at most 3 + 18 + 66 + 2 * 303 bytes of msgpack.
inline constexpr std::size_t max_peers_per_list = 256;
inline constexpr std::size_t max_services = 256;
inline constexpr std::size_t max_rpc_message_len = 4096;            // error text in a reply

static_assert(max_peers_per_list * (3 + 18 + (max_name_len + 2) + 2 * (max_endpoint_len + 3)) + 16 <
              max_control_size);

// A full SUBS of maximal prefixes fits one control frame too.
static_assert(max_subscriptions * (max_topic_len + 3) + 16 < max_control_size);

// What a member says of itself in its gossip updates (§16.4).
inline constexpr std::size_t max_gossip_meta = 1024;
// One gossip update at its largest: [id bin16, incarnation uint32, state, by bin16, meta bin16].
inline constexpr std::size_t max_gossip_update_size = 1 + 18 + 5 + 1 + 18 + 3 + max_gossip_meta;
// A MEMBERS of updates that each carry the largest meta fits one control frame, so a sender
// splits its table by count alone.
inline constexpr std::size_t max_members_per_message = 240;
static_assert(max_members_per_message * max_gossip_update_size + 16 < max_control_size);

}  // namespace zmesh::protocol
