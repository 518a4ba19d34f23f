// SPDX-License-Identifier: MPL-2.0
// mesh: who is in the mesh and how we are linked to them. It dials newcomers (heard of by
// beacon, seed, HELLO or a peer's PEERS list), runs the HELLO handshake with link tokens,
// judges liveness (link events, traffic, timeouts), measures round trips, sends PEERS to
// each peer that joins (or, with members that gossip, exchanges MEMBERS tables and acts on
// gossip's news: mesh_gossip), and LEAVE on the way out. Every byte it reads came from the
// network: what does not check out is counted, never trusted. Time comes in as an argument and all
// output goes through mesh_wire and mesh_host, so its rules are tested without sockets.
#pragma once

#include "mesh_gossip.hpp"
#include "peer_port.hpp"
#include "wire.hpp"
#include "node/context.hpp"
#include "discovery/peer_table.hpp"
#include "protocol/beacon.hpp"
#include "protocol/control.hpp"
#include "protocol/rpc.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>

namespace zmesh::detail {

class mesh : public peer_port {
public:
    using clock = std::chrono::steady_clock;

    mesh(node_context& ctx, mesh_wire& wire, mesh_host& host);

    // The endpoints our HELLOs and PEERS entries advertise (set once bound).
    void advertise(std::string pub_endpoint, std::string router_endpoint);
    const std::string& pub_endpoint() const noexcept { return self_pub_; }
    const std::string& router_endpoint() const noexcept { return self_router_; }

    discovery::peer_table& table() noexcept { return table_; }
    const discovery::peer_table& table() const noexcept { return table_; }

    // A control message came to our ROUTER; `sender` is what its routing id holds (none:
    // not a node's, as a seed probe's).
    void on_control(const std::optional<protocol::sender_route>& sender, protocol::control& msg,
                    clock::time_point now);
    // Returns: the joined peer `route` names, marked alive, when the message came on its link
    // (the routing id quotes its token); null (counted) otherwise.
    discovery::peer* known_sender(const std::optional<protocol::sender_route>& route, clock::time_point now);
    // Returns: the peer `id`, when it has joined (its replies are taken); null (counted) else.
    discovery::peer* member(const protocol::node_id& id);
    // A believable beacon (see beacons) of a node at `host`.
    void on_beacon(const protocol::beacon& b, const std::string& host, clock::time_point now);
    void on_link_event(const protocol::node_id& id, link_event e, clock::time_point now);
    // A datagram came to our gossip socket (a node that gossips: options::gossip).
    void on_gossip(std::span<const std::uint8_t> bytes, const discovery::udp_address& source, clock::time_point now);
    // Returns: whether this node takes part in membership by gossip.
    bool gossips() const noexcept { return gossip_.has_value(); }

    // Removes `id` (by value: callers often name it by a reference into the table) and
    // closes its link, telling the host.
    void drop_peer(protocol::node_id id, discovery::leave_reason why);
    // What this node serves changed: every peer gets a fresh HELLO.
    void services_changed();
    // What this node publishes changed: gossip spreads its new meta.
    void publishes_changed() {
        if (gossip_) gossip_->set_self(self_meta());
    }
    // Links every member known by gossip alone that this node wants a link to: all of them
    // while it knows fewer members than options::link_everyone_below, else those whose
    // events it may take (mesh_links.cpp).
    void link_wanted(clock::time_point now);
    // Liveness, heartbeats, beacons, seeds and stats polls that are due.
    void on_timers(clock::time_point now);
    clock::time_point next_deadline() const;
    // Sends LEAVE on every link, peers still in handshake too.
    void leave_all();

    // peer_port
    void send_to_peer(const protocol::node_id& peer, const protocol::control& msg) override {
        wire_.send(peer, msg);
    }
    // A member known by gossip alone is linked first: the frame follows our HELLO on it.
    bool send_on_link(const protocol::node_id& peer, zmq::message_t& frame) override;
    void peer_alive(const protocol::node_id& peer, clock::time_point now) override;
    void peer_called(const protocol::node_id& peer) override { wire_.mark_used(peer); }

private:
    // Dials a newcomer, unless its key is not allowed, the table is full, or another peer
    // holds its endpoints (see discovery/link_trust.hpp). Its HELLO carries `echo` (the token
    // of the HELLO it answers) when given. Returns: whether it was dialled.
    bool dial(const protocol::node_id& id, const std::string& name, const std::string& pub_endpoint,
              const std::string& router_endpoint, clock::time_point now, bool want_reply,
              std::uint64_t echo = 0);
    // Returns: whether a newcomer at these endpoints may be taken into the table: its key is
    // allowed, no live peer holds its endpoints (a holder whose link failed is replaced), and
    // the table has room.
    bool may_take(const protocol::node_id& id, const std::string& name, const std::string& pub_endpoint,
                  const std::string& router_endpoint);
    // Links `p`, a member known by gossip alone (mesh_links.cpp); our HELLO answers the one
    // of token `echo` when given, else asks for an answer. Returns: whether it was linked.
    bool link_member(discovery::peer& p, clock::time_point now, std::uint64_t echo = 0);
    // Frames came from `p`, a member known by gossip alone, before its HELLO: it is linked,
    // and so asked for one (mesh_links.cpp).
    void ask_who_it_is(discovery::peer& p, clock::time_point now);
    // Returns: whether this node links to every member it knows (see link_wanted).
    bool links_everyone() const;
    bool wants_link(const discovery::peer& p) const;
    // Closes the links to members that carried nothing for options::idle_link, past the
    // threshold: those members stay, judged by gossip (mesh_links.cpp).
    void close_idle_links(clock::time_point now);
    // Gossip says `id` is alive and this is what it says of itself: a newcomer is listed, and
    // dialled only when this node links to everyone (or must hear its whole HELLO).
    void meet_member(const protocol::node_id& id, const protocol::member_meta& meta, clock::time_point now);
    // Returns: whether to dial the unknown node whose beacon we heard. A member that gossips
    // and no longer links to everyone dials one in about answerers / members (the newcomer
    // learns the rest from them), so a beacon does not bring it a link from every member.
    bool dial_beaconer();
    void on_hello(const protocol::hello& h, clock::time_point now);
    void on_leave(const std::optional<protocol::node_id>& sender, std::uint64_t token);
    // Our HELLO to `to` (null: to a seed, not yet a peer), with the token we gave it and, as
    // `echo`, the one it gave us unless another is given (the token of the HELLO answered).
    protocol::hello hello_message(const discovery::peer* to, bool want_reply,
                                  std::optional<std::uint64_t> echo = std::nullopt) const;
    // Sends `to` PEERS naming the members it may not know: all, or with `plain_only` those
    // that do not gossip (a member that gossips learns the others by gossip).
    void send_peer_list(const protocol::node_id& to, bool plain_only);
    void send_heartbeats(clock::time_point now);
    void contact_seeds();
    void poll_stats();
    void unlink(const protocol::node_id& id, const std::string& pub_endpoint);
    void apply(std::optional<discovery::peer_change> change);
    void apply(std::vector<discovery::peer_change> changes);
    // Logs a warning when another live member holds the name of `joined`.
    void warn_if_name_shared(const discovery::peer& joined);
    // Returns: `t` in µs of its clock: what a PING carries, and its PONG brings back.
    static std::uint64_t now_us(clock::time_point t) {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
    }
    // An observer asked the members that hear it for their beacons: this one answers, or
    // leaves it to others (mesh.cpp).
    void answer_asking(clock::time_point now);
    // Returns: whether the table holds a member (not an observer) past its handshake.
    bool knows_member() const;
    // What this node says of itself in gossip.
    protocol::member_meta self_meta() const;
    // Acts on gossip's news: members alive and unknown are dialled; a member said dead or
    // left is doubted, never dropped on hearsay alone (peer_table::doubt).
    void apply_gossip(clock::time_point now);
    // Once a second: links everyone if this node now should, and meets the members gossip
    // knows alive that the table lacks.
    void recheck_members(clock::time_point now);
    // Gossip's periodic full exchange with `partner` (anti-entropy: what piggybacked news
    // missed): our table goes on its link, linked now if need be (mesh_links.cpp).
    void push_pull(const protocol::node_id& partner, clock::time_point now);

    node_context& ctx_;
    mesh_wire& wire_;
    mesh_host& host_;
    discovery::peer_table table_;
    std::string self_pub_, self_router_;
    std::optional<mesh_gossip> gossip_;   // set by advertise() when options::gossip
    // The last sender known_sender found, while the table is as it was then (see
    // peer_table::version): a pipelined caller's requests come one after another.
    struct {
        protocol::node_id id;
        discovery::peer* peer = nullptr;
        std::uint64_t version = 0;
    } last_sender_;
    std::chrono::milliseconds seed_retry_{50};   // doubles after each round of seed HELLOs
    std::minstd_rand dice_{std::random_device{}()};
    clock::time_point last_answer_{};   // to an asking beacon
    static constexpr std::chrono::milliseconds first_ask_retry{250};
    std::chrono::milliseconds ask_retry_{first_ask_retry};   // after an observer's next question
    // At once, not after a period.
    clock::time_point next_beacon_{}, next_heartbeat_{}, next_liveness_{}, next_seed_{}, next_stats_poll_{},
        next_recheck_{};
};

}  // namespace zmesh::detail
