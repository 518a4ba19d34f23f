// SPDX-License-Identifier: MPL-2.0
// mesh_wire and mesh_host: what the mesh component asks of the world around it. The wire is
// the network (links to peers, seed probes, the beacon); the host is the rest of the node
// (who else must hear of a peer, and what this node serves). Both are interfaces so that
// the mesh's rules are tested without a socket (tests/node/mesh/).
#pragma once

#include "discovery/gossip_socket.hpp"
#include "discovery/peer.hpp"
#include "discovery/peer_table.hpp"
#include "protocol/control.hpp"
#include "protocol/node_id.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace zmesh::detail {

// What the links' monitor saw of one link.
enum class link_event { down, up, retry_failed };

class mesh_wire {
public:
    // Connects a link to the peer `id` listening at `router_endpoint`; `token` is the one we
    // give it, which the link's routing id carries. Returns: false (logged) when it could
    // not, or when the peer's key may not be dialled.
    virtual bool open_link(const protocol::node_id& id, const std::string& router_endpoint,
                           std::uint64_t token) = 0;
    // Closes the link to `id`, with whatever is queued on it. Nothing when there is none.
    virtual void close_link(const protocol::node_id& id) = 0;
    // Sends `msg` on the link to `id`; counted as dropped when it cannot go. PING and PONG
    // do not count as using the link (see take_used).
    virtual void send(const protocol::node_id& id, const protocol::control& msg) = 0;
    // Sends an encoded frame (a REQUEST) on the link to `id`. Returns: whether it was queued.
    virtual bool send_frame(const protocol::node_id& id, zmq::message_t& frame) = 0;
    // Returns: whether something besides PING and PONG went on the link to `id` since the
    // last call (or since it opened), and forgets it.
    virtual bool take_used(const protocol::node_id& id) = 0;
    // The link to `id` carried a call (on its call link): its round trip is worth measuring.
    virtual void mark_used(const protocol::node_id& id) = 0;
    // Sends `h` to every seed.
    virtual void probe_seeds(const protocol::hello& h) = 0;
    // Returns: whether there are seeds to probe.
    virtual bool has_seeds() const = 0;
    // Announces this node on the beacon (nothing when beacons are off); `asking`: an
    // observer's question instead, which members answer with their own (PROTOCOL.md §5.2).
    virtual void send_beacon(bool asking) = 0;
    // Sends a gossip datagram (PROTOCOL.md §16). Returns: false when it could not go (no
    // gossip socket, or the kernel would not take it): gossip tolerates loss.
    virtual bool send_gossip(const discovery::udp_address& to, std::span<const std::uint8_t> bytes) = 0;

protected:
    ~mesh_wire() = default;
};

class mesh_host {
public:
    // A peer joined, left or changed state. The table may be read; `c.snapshot` is a copy.
    virtual void peer_changed(const discovery::peer_change& c) = 0;
    // A newcomer was dialled: events it publishes may arrive before its HELLO.
    virtual void peer_dialled(const protocol::node_id& id, const std::string& name,
                              const std::string& pub_endpoint) = 0;
    // A member known by gossip alone was linked now: events it publishes are taken as a
    // joined member's (links on demand, PROTOCOL.md §16.5).
    virtual void member_linked(const discovery::peer& p) = 0;
    // Returns: whether this node may want events `p` publishes (then it links `p`).
    virtual bool wants_events_from(const discovery::peer& p) const = 0;
    // Returns: whether something of this node waits on its link to `id` (a call's reply):
    // such a link is not idle, whatever the clock says.
    virtual bool awaits_from(const protocol::node_id& id) const = 0;
    // Its HELLO said its name.
    virtual void peer_named(const protocol::node_id& id, const std::string& name) = 0;
    // Our link to `id` closed: whatever else the node holds for it goes too.
    virtual void peer_unlinked(const protocol::node_id& id, const std::string& pub_endpoint) = 0;
    // Returns: whether a peer of this key may be dialled at all.
    virtual bool may_dial(const protocol::node_id& id) = 0;
    // Returns: the methods this node serves, as its HELLO says.
    virtual std::vector<std::string> served_methods() const = 0;
    // Returns: the prefixes of the topics this node publishes, or none when it may publish
    // anything (its gossip meta lists them).
    virtual std::optional<std::vector<std::string>> published_prefixes() const = 0;
    // A member sent SUBS: its subscriptions at our PUB.
    virtual void peer_subscribes(discovery::peer& p, protocol::subs&& s) = 0;
    // A member asked for our counters (STATS_QUERY).
    virtual void stats_asked(const protocol::node_id& from) = 0;

protected:
    ~mesh_host() = default;
};

}  // namespace zmesh::detail
