// SPDX-License-Identifier: MPL-2.0
// peer: what one node knows about one other node, and each change of its state.
#pragma once

#include "../protocol/node_id.hpp"

#include <zmesh/liveness.hpp>
#include <zmesh/peer.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zmesh::discovery {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A peer's state and its changes are the application's types (<zmesh/peer.hpp>), and so
// are the timeouts that judge it: the table decides in the terms the node reports.
using zmesh::leave_reason;
using zmesh::liveness_config;
using zmesh::peer_state;
using change_kind = zmesh::peer_event_kind;

struct peer {
    protocol::node_id id;
    std::string name;
    std::string pub_endpoint;       // what we dialled
    std::string router_endpoint;    // what we dialled
    std::string advertised_pub;     // what the peer said in HELLO: passed on in PEERS
    std::string advertised_router;
    std::vector<std::string> services;
    // The prefixes of the topics it publishes, as its gossip meta lists them (PROTOCOL.md
    // §16.4). None: it did not say (a member that does not list them, or one known by its
    // HELLO alone), and may publish anything.
    std::optional<std::vector<std::string>> publishes;
    bool observer = false;
    bool takes_call_links = false;   // its HELLO offers them (PROTOCOL.md §4.2 rule 6)
    bool gossips = false;            // its HELLO says it takes gossip and MEMBERS (§16)
    // We hold a link to it. A member known by gossip alone has none until we call it or take
    // its events (links on demand, PROTOCOL.md §16.5); gossip alone judges it meanwhile.
    bool linked = true;
    // Its HELLO came (on its link, with its token). Until then, a member known by gossip alone
    // is not a sender whose frames we take: anyone could claim its id.
    bool heard_hello = true;
    peer_state state = peer_state::connecting;
    clock::time_point created{};
    clock::time_point last_seen{};
    // Our link to it finished its ZMTP handshake and has not dropped since. libzmq heartbeats
    // the link and drops it after `evasive` of silence, so while it is up the peer is alive.
    bool link_up = false;
    std::optional<clock::time_point> disconnected_at;   // set while its connection is down
    int refused_reconnects = 0;                          // since disconnected_at
    // Gossip said it is dead or left while our link to it was up: it has until `evasive`
    // after this to show any traffic (we ping it), or it is gone (peer_table::doubt).
    std::optional<clock::time_point> doubted_since;
    // Something besides a handshake went either way on our links with it (a call, a reply,
    // a stream frame, a control message): a link idle long enough is closed (§16.5).
    clock::time_point last_used{};
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

// One state change of one peer, with a copy of the peer as it was then.
struct peer_change {
    change_kind kind;
    leave_reason reason = leave_reason::none;
    peer snapshot;
};

}  // namespace zmesh::discovery
