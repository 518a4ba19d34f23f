// SPDX-License-Identifier: MPL-2.0
// control: the messages a node sends through its link to a peer's ROUTER to join, stay
// alive and leave. Each is one frame:
//
//  offset  size  field
//  0       1     version (1)
//  1       1     type (hello 0x01, ping 0x02, pong 0x03, leave 0x04, peers 0x05,
//                subs 0x06, stats_query 0x07, stats 0x08, members 0x09)
//  2       n     msgpack array of the type's fields (see PROTOCOL.md), trailing extra
//                fields ignored
#pragma once

#include "gossip.hpp"
#include "limits.hpp"
#include "node_id.hpp"
#include "result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace zmesh::protocol {

enum class msg_type : std::uint8_t {
    hello = 0x01,
    ping = 0x02,
    pong = 0x03,
    leave = 0x04,
    peers = 0x05,
    subs = 0x06,
    stats_query = 0x07,
    stats = 0x08,
    members = 0x09,
};

inline constexpr std::uint8_t hello_flag_observer = 0x01;   // passive: never listed as a member
inline constexpr std::uint8_t hello_flag_want_reply = 0x02; // "I have not seen your HELLO yet"
inline constexpr std::uint8_t hello_flag_call_links = 0x04; // takes REQUESTs on call links (rpc.hpp)
inline constexpr std::uint8_t hello_flag_gossip = 0x08; // takes gossip datagrams (UDP, at its ROUTER's port number) and MEMBERS

struct hello {
    std::string mesh;
    node_id id;
    std::string name;
    std::string pub_endpoint;      // tcp://host:port the peer's SUB dials
    std::string router_endpoint;   // tcp://host:port the peer's DEALER dials
    std::uint8_t flags = 0;
    std::vector<std::string> services;   // RPC methods served (sorted, unique)
    // Link tokens (revision 8; 0 = none, as from an older sender). `token`: the one the
    // sender gave the receiver, which the receiver quotes back (its HELLOs' echo, its LEAVE)
    // so that the sender knows it is the node it dialled. `echo`: the token the receiver gave
    // the sender, or, in an answer, the token of the HELLO answered.
    std::uint64_t token = 0;
    std::uint64_t echo = 0;
    bool operator==(const hello&) const = default;
};
struct ping {
    std::uint64_t token = 0;   // echoed in the pong; the sender's clock in µs
    bool operator==(const ping&) const = default;
};
struct pong {
    std::uint64_t token = 0;
    bool operator==(const pong&) const = default;
};
struct leave {
    std::uint64_t token = 0;   // the token the receiver gave the sender (revision 8; 0: none)
    bool operator==(const leave&) const = default;
};
struct peer_entry {
    node_id id;
    std::string name;
    std::string pub_endpoint;
    std::string router_endpoint;
    bool operator==(const peer_entry&) const = default;
};
struct peers {
    std::vector<peer_entry> list;
    bool operator==(const peers&) const = default;
};

// The topic prefixes the sender's SUB is subscribed to. Sent to a peer once the SUB's
// connection to that peer is up (so the filters travelled first), and whenever they change.
struct subs {
    std::vector<std::string> prefixes;   // sorted, unique; "" means every topic
    bool operator==(const subs&) const = default;
};
// "Send me your counters" (the monitor asks each member once a second).
struct stats_query {
    bool operator==(const stats_query&) const = default;
};
// The sender's own counters, by name (events_in, events_out, events_gaps, ...).
struct stats {
    std::vector<std::pair<std::string, std::uint64_t>> counters;
    bool operator==(const stats&) const = default;
};
// Room for every counter of a node, with room to grow: revision 7 allowed 64 pairs.
inline constexpr std::size_t max_stats_counters = 256;
inline constexpr std::size_t max_counter_name_len = 64;
// A full STATS of the longest names and largest values fits one control frame.
static_assert(max_stats_counters * ((max_counter_name_len + 2) + 9) + 16 < max_control_size);

// Push-pull of the membership table between members that gossip (both set hello_flag_gossip):
// on joining such a peer, and every push-pull interval with one member. A table longer than
// max_members_per_message goes in several MEMBERS, reply_wanted on the first only.
struct members {
    bool reply_wanted = false;                // "send me yours": the receiver answers with its own table, reply_wanted false
    std::vector<gossip_update> list;          // 0..max_members_per_message (protocol/gossip.hpp's gossip_update)
    bool operator==(const members&) const = default;
};
inline constexpr std::uint8_t members_flag_reply_wanted = 0x01;

using control = std::variant<hello, ping, pong, leave, peers, subs, stats_query, stats, members>;

struct frame_header {
    std::uint8_t version;
    std::uint8_t type;
};

// Returns: version and type of any ROUTER/DEALER frame, or truncated / bad_version.
// Lets the reactor route a frame before it decodes the body.
result<frame_header> peek_header(std::span<const std::uint8_t> frame);

// Returns: a fresh link token (hello::token): never 0, unpredictable (the system's CSPRNG),
// so that no stranger can guess the one a node gave another.
std::uint64_t random_link_token();

// Returns: the frame for a control message. Throws std::length_error when a string is over
// its limit (callers validate their own configuration first).
std::vector<std::uint8_t> encode_control(const control& msg);

// Returns: the control message in `frame`, or an errc. Never throws.
result<control> decode_control(std::span<const std::uint8_t> frame);

}  // namespace zmesh::protocol
