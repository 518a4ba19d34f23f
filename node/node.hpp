// SPDX-License-Identifier: MPL-2.0
// node: the embeddable zmesh API. One node is one member of a mesh.
//
//   zmesh::options o;
//   o.name = "inventory";
//   o.mesh = "shop";
//   zmesh::node n(o);
//   n.on_peer_event([](const zmesh::peer_event& e) { ... });   // before start()
//   n.start();                  // binds, beacons, joins; throws on setup errors
//   auto peers = n.peers();     // snapshot, from any thread
//   n.stop();                   // sends LEAVE so peers see us go at once
//
// Threads: start() runs one reactor thread that owns every socket, and one delivery thread
// that runs the application's callbacks, so a slow callback never delays heartbeats.
// Other methods may be called from any thread (each call is a message to the reactor).
#pragma once

#include "discovery/peer.hpp"
#include "options.hpp"
#include "protocol/node_id.hpp"
#include "stats.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace zmesh {

using protocol::node_id;
using discovery::peer_state;
using discovery::leave_reason;
using peer_event_kind = discovery::change_kind;

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
};

struct peer_event {
    peer_event_kind kind;          // joined, evasive, recovered, left
    leave_reason reason = leave_reason::none;   // for left: leave, expired, disconnected, ...
    peer_info peer;
};

class reactor;

class node {
public:
    // Throws std::invalid_argument (with a one-line message) when `o` is invalid.
    explicit node(options o);
    ~node();   // stop()s
    node(const node&) = delete;
    node& operator=(const node&) = delete;

    // Called on the delivery thread for every peer event, in order. Set before start().
    void on_peer_event(std::function<void(const peer_event&)> handler);

    // Binds the sockets, opens the beacon and starts the threads. Throws std::runtime_error
    // with a one-line message when a socket cannot be bound or no interface fits.
    void start();
    // Sends LEAVE to every peer, closes every socket (flushing for up to 500 ms) and joins the
    // threads. Idempotent. Must not be called from a callback of this node.
    void stop();
    bool running() const noexcept;

    const node_id& id() const noexcept { return id_; }
    const std::string& name() const noexcept { return options_.name; }
    const options& config() const noexcept { return options_; }
    // The endpoints peers dial, valid after start().
    const std::string& pub_endpoint() const noexcept { return pub_endpoint_; }
    const std::string& router_endpoint() const noexcept { return router_endpoint_; }

    // Returns: every peer this node knows (connecting ones included), from the reactor's
    // table at the time of the call. Empty when not running.
    std::vector<peer_info> peers() const;
    // Returns: the counters at the time of the call; zeros when not running.
    node_stats stats() const;

private:
    struct threads;

    options options_;
    node_id id_;
    std::string pub_endpoint_, router_endpoint_;
    std::function<void(const peer_event&)> peer_handler_;
    std::unique_ptr<threads> threads_;
};

}  // namespace zmesh
