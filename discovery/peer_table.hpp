// SPDX-License-Identifier: MPL-2.0
// peer_table: the liveness state machine of every known peer. Pure logic: no sockets, and
// time comes in as an argument, so every transition is unit-testable.
//
//   connecting --HELLO--> joined --silence > evasive--> evasive --silence > expired--> left
//        |                  ^  \--link down---------------^   |  \--refused / down too long--> left
//        |                  \--traffic (or link up again)---------/
//        \--no HELLO within handshake timeout--> dropped silently (never joined)
//
// Silence counts only while our link to the peer is not up: an up link is heartbeated (when
// links are not, silence counts for peers that do not gossip).
// A peer gossip calls dead is doubted: evasive until it shows traffic, left if it does not.
#pragma once

#include "peer.hpp"
#include "protocol/control.hpp"

#include <optional>
#include <unordered_map>
#include <vector>

namespace zmesh::discovery {

class peer_table {
public:
    // `links_heartbeated`: libzmq heartbeats our links, so an up link means a live peer. When
    // not (a node that gossips), only a peer that gossips is judged elsewhere; the silence
    // of the others counts even while their link is up.
    explicit peer_table(liveness_config cfg = {}, bool links_heartbeated = true)
        : cfg_(cfg), links_heartbeated_(links_heartbeated) {}
    // linked_ points into peers_: a copy would point into the original, while a move takes
    // peers_'s elements along, where they are.
    peer_table(const peer_table&) = delete;
    peer_table& operator=(const peer_table&) = delete;
    peer_table(peer_table&&) = default;
    peer_table& operator=(peer_table&&) = default;

    const liveness_config& config() const noexcept { return cfg_; }

    peer* find(const protocol::node_id& id);
    const peer* find(const protocol::node_id& id) const;
    // Returns: the live peer we dial at `pub_endpoint`, if any.
    peer* find_by_pub_endpoint(const std::string& pub_endpoint);
    const peer* find_by_pub_endpoint(const std::string& pub_endpoint) const;

    // Records a peer we are about to dial, giving it `token` (not 0, unpredictable).
    // Precondition: !find(id).
    peer& add(const protocol::node_id& id, std::string name, std::string pub_endpoint,
              std::string router_endpoint, clock::time_point now, std::uint64_t token);
    // Records a member that gossip found alive (PROTOCOL.md §16.5): joined, with no link and
    // no HELLO yet; gossip judges it. Precondition: !find(id). Returns: its `joined` change.
    peer_change add_member(const protocol::node_id& id, std::string name, std::string pub_endpoint,
                           std::string router_endpoint, std::vector<std::string> services,
                           clock::time_point now);
    // Gossip brought what an unlinked member says of itself now (a new incarnation): its
    // name and services are taken. Its endpoints are where we would dial it: those change
    // only with a new process, which is a new member.
    void update_member(peer& p, std::string name, std::vector<std::string> services);
    // We opened a link to `p`, a member known by gossip, giving it `token`: from now on its
    // link's evidence judges it too, its silence counted from `now`.
    void linked(peer& p, std::uint64_t token, clock::time_point now);
    // We closed our link to `p` for idleness: it is judged by gossip again. What it gave us
    // and we gave it (tokens, its HELLO) stays: its own link to us carries on, and our next
    // HELLO quotes its token.
    void unlinked(peer& p);
    // Returns: the peer other than `except` we dial at `pub_endpoint` or `router_endpoint`.
    peer* holder_of(const std::string& pub_endpoint, const std::string& router_endpoint,
                    const protocol::node_id& except);
    // Returns: the peer we gave `token` to, if any (never for 0).
    peer* given(std::uint64_t token);

    // Its HELLO arrived, joining it or authentic (see trust_hello): connecting -> joined,
    // evasive -> recovered, and its declared name, endpoints, services and token are taken.
    std::optional<peer_change> on_hello(peer& p, const protocol::hello& h, clock::time_point now);
    // Any traffic from it is a sign of life.
    std::optional<peer_change> on_traffic(peer& p, clock::time_point now);
    // Our link to it dropped (socket monitor): its connection ended, or libzmq's heartbeat
    // found it silent. Suspect at once.
    std::optional<peer_change> on_disconnect(peer& p, clock::time_point now);
    // Our link to it finished a ZMTP handshake (socket monitor): the first connection, or a
    // dropped one back. Not a mere TCP connect: the kernel accepts one for a stopped process.
    std::optional<peer_change> on_link_up(peer& p, clock::time_point now);
    // The socket monitor reported a reconnect retry for a peer whose connection dropped.
    // libzmq reports one when it schedules the first retry (right after the drop), then one
    // per refused attempt; so the second report means the port refused us: the process is
    // gone. Returns: `left` (disconnected) on that second report.
    std::optional<peer_change> on_reconnect_failed(peer& p);

    // Gossip says it is dead or left (PROTOCOL.md §16), which anyone could have forged: it is
    // evasive now and left unless traffic comes from it within `evasive` (the caller pings it).
    std::optional<peer_change> doubt(peer& p, clock::time_point now);

    // Removes the peer. Returns: a `left` change when it had joined; nothing for a peer
    // still connecting (it never counted as a member).
    // `id` by value: callers name it by a reference into the entry this erases.
    std::optional<peer_change> remove(protocol::node_id id, leave_reason why);

    // Applies the timeouts; a peer whose link is up is alive now. Returns: the changes, in
    // order; peers that left are erased.
    // Connecting peers that never answered are erased too, counted in handshake_timeouts()
    // and appended to `dropped` (when given) so the caller can close their sockets.
    std::vector<peer_change> tick(clock::time_point now, std::vector<peer>* dropped = nullptr);

    std::size_t handshake_timeouts() const noexcept { return handshake_timeouts_; }
    const std::unordered_map<protocol::node_id, peer>& all() const noexcept { return peers_; }
    // Calls f(peer) for each peer we hold a link to (dialled, or linked since), in no order:
    // what timers walk, as past a small mesh the members far outnumber the links. f must
    // not add or remove peers.
    template <class F>
    void for_each_linked(F&& f) {
        for (auto* p : linked_) f(*p);
    }
    template <class F>
    void for_each_linked(F&& f) const {
        for (const auto* p : linked_) f(*p);
    }
    // Returns: a number that changes whenever a peer is added or removed, changes state, or
    // declares its services again (HELLO), and only then: what is derived from the table
    // (the providers of a method) stays valid while it holds.
    std::uint64_t version() const noexcept { return version_; }

private:
    // Takes `p` out of linked_, if it is there.
    void unindex(const peer& p);

    liveness_config cfg_;
    bool links_heartbeated_ = true;
    std::unordered_map<protocol::node_id, peer> peers_;
    std::vector<peer*> linked_;   // into peers_ (its elements do not move)
    std::size_t handshake_timeouts_ = 0;
    std::uint64_t version_ = 1;
};

}  // namespace zmesh::discovery
