// SPDX-License-Identifier: MPL-2.0
// gossip: the values membership by gossip (gossip_membership) reads and writes — a member's
// state as it is passed from member to member and the four probe messages that carry it
// (the wire's types, protocol/gossip.hpp), the rule that decides which of two reports about
// one member is the newer, what comes out, and the settings.
//
// The design is SWIM's (Das, Gupta, Motivala 2002) with Lifeguard's refinements (Dadgar,
// Phillips, Currey 2018): each member probes one other per period, directly and then through
// a few others; a member that answers neither way is suspected, not removed, and has a while
// to refute it by raising its incarnation; what changes rides on the probes' own messages.
// docs/scale.md gives the reasons and the figures.
#pragma once

#include "protocol/gossip.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace zmesh::discovery::gossip {

using clock = std::chrono::steady_clock;
using protocol::node_id;
using std::chrono::milliseconds;

// The wire's own types (protocol/gossip.hpp): the logic reads and writes what is sent.
using status = protocol::gossip_status;
using update = protocol::gossip_update;
using kind = protocol::gossip_kind;
using message = protocol::gossip_message;

// Returns: whether `incoming` says something newer about its member than `known` does:
// a later incarnation always; at the same incarnation, only a graver state (alive <
// suspect < dead = left). Dead and left are final for their incarnation.
bool overrides(const update& incoming, const update& known);

// Returns: whether a member in state `s` counts as a member (alive or suspect: it may still
// refute), not a tombstone (dead or left).
inline bool is_live(status s) noexcept { return s == status::alive || s == status::suspect; }

struct outgoing {
    node_id to;
    message msg;
};

// A member's state changed, as the application sees the mesh.
struct change {
    node_id id;
    status state = status::alive;   // alive: joined, back from suspect, or new meta
    std::string meta;
};

struct config {
    milliseconds probe_interval{200};
    milliseconds probe_timeout{80};    // direct ack wait; then the indirect probes
    std::size_t indirect_probes = 3;
    // Suspicion lasts from min = min_mult * log10(members) * probe_interval (at least one
    // such) down from max = max_mult * min, shorter with each independent confirmation,
    // reaching min at `indirect_probes` confirmations (Lifeguard's dynamic suspicion).
    double suspicion_min_mult = 3.0;
    double suspicion_max_mult = 4.0;
    // Each update rides on retransmit_mult * ceil(log10(members + 1)) messages.
    std::size_t retransmit_mult = 4;
    std::size_t max_piggyback = 8;     // updates per message
    int max_health = 8;                // Lifeguard's local health: periods stretch up to 1 + this
    // Each suspect or dead member seen coming back alive makes suspicions last once more as
    // long, fading over about this long (up to 1 + max_health times): a mesh whose members
    // refute is one whose members are slow (a loaded machine), not dead.
    std::chrono::duration<double> false_alarm_memory{10.0};
    milliseconds tombstone_for{30'000};   // dead and left are remembered this long
    std::size_t max_members = 65536;
    std::size_t max_relays = 256;      // ping_reqs relayed at once
    milliseconds push_pull_interval{30'000};
};

}  // namespace zmesh::discovery::gossip
