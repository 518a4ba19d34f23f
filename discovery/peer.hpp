// SPDX-License-Identifier: MPL-2.0
// peer: what one node knows about one other node, and the liveness timeouts that judge it.
#pragma once

#include "../protocol/node_id.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zmesh::discovery {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

enum class peer_state {
    connecting,   // we dialled it and sent HELLO; its HELLO has not arrived yet
    joined,       // handshake done, traffic seen within the evasive timeout
    evasive,      // silent for longer than the evasive timeout, or its connection dropped
    left,         // gone: LEAVE, expired, connection refused, replaced by a restart, or its
                  // key revoked
};

enum class leave_reason { none, leave, expired, disconnected, replaced, stopped, revoked };

constexpr std::string_view to_string(peer_state s) noexcept {
    switch (s) {
        case peer_state::connecting: return "connecting";
        case peer_state::joined: return "joined";
        case peer_state::evasive: return "evasive";
        case peer_state::left: return "left";
    }
    return "?";
}

constexpr std::string_view to_string(leave_reason r) noexcept {
    switch (r) {
        case leave_reason::none: return "";
        case leave_reason::leave: return "leave";
        case leave_reason::expired: return "expired";
        case leave_reason::disconnected: return "disconnected";
        case leave_reason::replaced: return "replaced";
        case leave_reason::stopped: return "stopped";
        case leave_reason::revoked: return "revoked";
    }
    return "?";
}

struct liveness_config {
    milliseconds heartbeat{250};          // link heartbeat (ZMTP PING) period
    milliseconds evasive{1000};           // silence before a peer is suspected
    milliseconds expired{3000};           // silence before a peer is declared left
    milliseconds handshake{3000};         // a dialled peer must answer HELLO within this
    milliseconds disconnect_grace{1000};  // after a dropped connection, time to come back

    // Returns: how long a dropped link may stay down before its peer has left. A link is
    // dropped for silence only after `evasive` of it, so the rest of `expired` is left to
    // come back; a dropped connection gets at least the grace.
    milliseconds down_allowed() const noexcept {
        return std::max(disconnect_grace, expired - evasive);
    }
};

struct peer {
    protocol::node_id id;
    std::string name;
    std::string pub_endpoint;       // what we dialled
    std::string router_endpoint;    // what we dialled
    std::string advertised_pub;     // what the peer said in HELLO: passed on in PEERS
    std::string advertised_router;
    std::vector<std::string> services;
    bool observer = false;
    bool takes_call_links = false;   // its HELLO offers them (PROTOCOL.md §4.2 rule 6)
    peer_state state = peer_state::connecting;
    clock::time_point created{};
    clock::time_point last_seen{};
    // Our link to it finished its ZMTP handshake and has not dropped since. libzmq heartbeats
    // the link and drops it after `evasive` of silence, so while it is up the peer is alive.
    bool link_up = false;
    std::optional<clock::time_point> disconnected_at;   // set while its connection is down
    int refused_reconnects = 0;                          // since disconnected_at
    std::int64_t rtt_us = -1;                            // last PING round trip, -1 unknown
    std::vector<std::string> subscriptions;              // its topic prefixes (SUBS)
    bool subscriptions_known = false;
    std::vector<std::pair<std::string, std::uint64_t>> reported;   // its counters (STATS)
    // Link tokens (PROTOCOL.md §7.8). `our_token`: the one we gave it in our HELLOs; only
    // what reached the ROUTER we dialled knows it, so a HELLO or LEAVE that quotes it comes
    // from the node we dialled, not from a stranger naming its id. `their_token`: the one it
    // gave us, which we quote back. 0: none yet.
    std::uint64_t our_token = 0;
    std::uint64_t their_token = 0;
    clock::time_point last_challenge{};   // we last asked it to prove itself (see on_hello)
};

enum class change_kind { joined, evasive, recovered, left };

constexpr std::string_view to_string(change_kind k) noexcept {
    switch (k) {
        case change_kind::joined: return "joined";
        case change_kind::evasive: return "evasive";
        case change_kind::recovered: return "recovered";
        case change_kind::left: return "left";
    }
    return "?";
}

// One state change of one peer, with a copy of the peer as it was then.
struct peer_change {
    change_kind kind;
    leave_reason reason = leave_reason::none;
    peer snapshot;
};

}  // namespace zmesh::discovery
