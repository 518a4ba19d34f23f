// SPDX-License-Identifier: MPL-2.0
// mesh_view: what a short-lived tool has seen of its mesh, and when it may trust that view to
// decide ("no one serves that"): once every member had the chance to be heard and the table
// has stopped changing. Also the other meshes heard on the beacon port, to tell a mistyped
// --mesh from an empty one.
#pragma once

#include <zmesh/node.hpp>
#include "discovery/beacon_socket.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace zmesh::cli {

using steady = std::chrono::steady_clock;

struct settle_rules {
    milliseconds beacon_interval{1000};   // 0: no beacons, only a peer that answered settles
    milliseconds quiet{250};              // no handshake in flight, table unchanged this long
    bool subscriptions = false;           // also wait for each member's subscriptions (SUBS)
    bool asks = false;                    // an observer asking for beacons (PROTOCOL.md §5.2 rule 4)

    // Returns: when an empty view may settle at the earliest, 2 x quiet after the last beacon
    // it waits for: one quiet for that beacon and the dial it starts to get through a loaded
    // machine, one for the table to be quiet. An observer that asks waits for the answers to
    // its second question (the first's insurance against a lost datagram); otherwise for
    // every member to have beaconed once (a beacon interval). Without beacons, a seed's round
    // trip (1 s).
    milliseconds floor() const;
    // Returns: when every node beaconing on the port, of any mesh, was heard once: a beacon
    // interval and 2 x quiet, as in floor(). Another mesh's nodes do not answer questions.
    milliseconds silence() const { return beacon_interval + 2 * quiet; }
    // Returns: true when a view with no member, settled `elapsed` after the start, may be
    // told as empty, `heard` nodes having beaconed on the port meanwhile: a node heard can be
    // named ("did you mean --mesh"); that none beacons is known only after silence().
    bool may_tell_empty(std::size_t heard, milliseconds elapsed) const;
};

// Returns: the rules for a node with options `o`: it asks when it is an observer with
// beacons on.
settle_rules settle_rules_for(const options& o);

// Decides from successive snapshots of node::peers() when the view has settled: no peer in
// handshake (nor, with rules.subscriptions, a member whose subscriptions are unknown), the
// table unchanged for `quiet`, and either rules.floor() passed since `start` (every member
// beaconed once, or answered) or a member joined (whose PEERS named the others). No clock or socket of its
// own: time is passed in.
class settle_tracker {
public:
    settle_tracker(settle_rules rules, steady::time_point start);
    // Returns: true when the view has settled at `now`.
    bool update(const std::vector<peer_info>& peers, steady::time_point now);
    bool settled() const noexcept { return settled_; }
    // Returns: true when nothing is pending and the table has not changed for `d`.
    bool quiet_for(milliseconds d, steady::time_point now) const;
    // Peers in handshake (and members whose subscriptions are awaited) at the last update.
    std::size_t pending() const noexcept { return pending_; }

private:
    struct entry {
        node_id id;
        peer_state state;
        std::vector<std::string> services;
        bool subscriptions_known;
        std::vector<std::string> subscriptions;
        bool operator==(const entry&) const = default;
    };
    settle_rules rules_;
    steady::time_point start_, changed_at_;
    std::vector<entry> table_;
    std::size_t pending_ = 0;
    bool member_seen_ = false;
    bool settled_ = false;
};

// Returns: the members among `peers`: joined or evasive, not observers, sorted by name.
std::vector<peer_info> members_of(const std::vector<peer_info>& peers);

// The meshes heard on the beacon port and the distinct nodes beaconing for each. Bounded:
// whatever arrives, it holds at most max_nodes ids.
class beacon_tally {
public:
    static constexpr std::size_t max_nodes = 4096;
    void heard(const std::string& mesh, const node_id& id);
    // Returns: (mesh, nodes) for every mesh but `own`, the most nodes first.
    std::vector<std::pair<std::string, std::size_t>> others(const std::string& own) const;
    std::size_t nodes_of(const std::string& mesh) const;
    // Returns: the distinct nodes heard, of every mesh.
    std::size_t nodes() const noexcept { return nodes_; }

private:
    std::map<std::string, std::set<node_id>> meshes_;
    std::size_t nodes_ = 0;
};

// A second socket on the beacon port beside the node's: the port is shared (SO_REUSEPORT)
// and every socket joined to the group gets its own copy of each beacon, so listening
// takes nothing from the node. It only listens.
class beacon_listener {
public:
    // Opens it on the interfaces `o` names, unless beacons are off; when it cannot be opened
    // the tool goes on without it (listening() is false).
    beacon_listener(const options& o, const node_id& self);
    ~beacon_listener();
    beacon_listener(const beacon_listener&) = delete;
    beacon_listener& operator=(const beacon_listener&) = delete;
    // Reads the beacons waiting; never blocks.
    void poll();
    bool listening() const noexcept { return socket_ != nullptr; }
    std::uint16_t port() const noexcept { return port_; }
    const beacon_tally& tally() const noexcept { return tally_; }

private:
    std::unique_ptr<discovery::beacon_socket> socket_;
    std::uint16_t port_;
    node_id self_;
    beacon_tally tally_;
};

enum class view_outcome { ready, settled, unsettled, interrupted };

struct view_result {
    view_outcome outcome;
    std::vector<peer_info> peers;   // the last snapshot
    milliseconds elapsed{0};
    std::size_t pending = 0;        // peers still in handshake at the end
    int signal = 0;                 // for interrupted
};

using view_ready = std::function<bool(const std::vector<peer_info>& peers, const settle_tracker& view,
                                      steady::time_point now)>;

// Watches `n`'s peers from `start` until `ready` holds (ready); the view has settled, `hold`
// has passed and, with no member in it, `listener` heard enough to say why
// (rules.may_tell_empty) (settled); `bound` has passed, or `hold` if later (unsettled); or
// SIGINT or SIGTERM arrives (interrupted). A bound shorter than a settle can take is
// stretched to it, so that even a bound of 0 lets the members be found. Polls `listener`
// meanwhile, when given.
view_result await_view(const node& n, const settle_rules& rules, steady::time_point start, milliseconds hold,
                       milliseconds bound, const view_ready& ready, beacon_listener* listener);

// Returns: why no member of `o.mesh` was seen, in a sentence, from what `listener` heard:
// another mesh's nodes (with a "did you mean"), nodes of this mesh that did not let us in
// (keys), or no beacon at all.
std::string why_no_members(const options& o, const beacon_listener& listener);

// Returns: "" for a settled view, else " (the view had not settled after 5.0 s: N peer(s)
// still in handshake)".
std::string unsettled_note(const view_result& r);

}  // namespace zmesh::cli
