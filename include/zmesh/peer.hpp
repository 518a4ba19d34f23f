// SPDX-License-Identifier: MPL-2.0
// peer: what a node tells the application about another member: its state, what changed,
// why it left, and a snapshot of what is known about it (node::peers, node::on_peer_event).
#pragma once

#include <zmesh/node_id.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zmesh {

enum class peer_state {
    connecting,   // we dialled it and sent HELLO; its HELLO has not arrived yet
    joined,       // handshake done, traffic seen within the evasive timeout
    evasive,      // silent for longer than the evasive timeout, or its connection dropped
    left,         // gone: LEAVE, expired, connection refused, replaced by a restart, or its
                  // key revoked
};

enum class leave_reason { none, leave, expired, disconnected, replaced, stopped, revoked };

// What happened to a peer: each is one peer_event.
enum class peer_event_kind { joined, evasive, recovered, left };

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

constexpr std::string_view to_string(peer_event_kind k) noexcept {
    switch (k) {
        case peer_event_kind::joined: return "joined";
        case peer_event_kind::evasive: return "evasive";
        case peer_event_kind::recovered: return "recovered";
        case peer_event_kind::left: return "left";
    }
    return "?";
}

struct peer_info {
    node_id id;
    std::string name;
    peer_state state = peer_state::connecting;
    std::string pub_endpoint;      // as this node dials it
    std::string router_endpoint;
    std::vector<std::string> services;
    bool observer = false;         // a monitor watching the mesh, not a member
    std::int64_t last_seen_ms = 0; // how long ago any traffic came from it
    std::int64_t rtt_us = -1;      // last heartbeat round trip; -1 before the first
    // We hold a link to it. With options::gossip, past options::link_everyone_below, a member
    // we neither call nor take events from has none: gossip alone vouches for it, and
    // last_seen_ms counts from when we learned of it (PROTOCOL.md §16.5).
    bool linked = true;
    // Events
    std::vector<std::string> subscriptions;   // the prefixes it subscribed to, sorted
    bool subscriptions_known = false;         // it has told us (its SUB reached our PUB)
    // The prefixes of the topics it publishes, as its gossip meta lists them (options::gossip);
    // none: it did not say, and may publish anything.
    std::optional<std::vector<std::string>> publishes;
    std::uint64_t events_in = 0;              // events we accepted from it
    std::uint64_t gaps = 0;                   // its events we missed (seq jumps)
    // Its own counters, as it last reported them (options::stats_poll; empty otherwise).
    std::vector<std::pair<std::string, std::uint64_t>> reported;
};

struct peer_event {
    peer_event_kind kind;          // joined, evasive, recovered, left
    leave_reason reason = leave_reason::none;   // for left: leave, expired, disconnected, ...
    peer_info peer;
};

}  // namespace zmesh
