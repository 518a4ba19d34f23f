// SPDX-License-Identifier: MPL-2.0
// mesh_gossip: membership by gossip for the mesh (PROTOCOL.md §16; docs/scale.md). It runs
// the SWIM engine (discovery/gossip_membership) on what this node hears — probe datagrams,
// MEMBERS tables on links, its own links' evidence — sends the engine's probes to each
// member's gossip address, and hands its verdicts to the mesh as news: who is alive (with
// what it says of itself: where to dial it) and who is dead or left. Time comes in as an
// argument and everything goes out through mesh_wire, so its rules are tested without
// sockets. Every input is from the network: what does not decode is counted and dropped.
#pragma once

#include "wire.hpp"
#include "node/context.hpp"
#include "discovery/gossip_membership.hpp"
#include "discovery/gossip_socket.hpp"
#include "protocol/control.hpp"
#include "protocol/member_meta.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace zmesh::detail {

class mesh_gossip {
public:
    using clock = std::chrono::steady_clock;

    // What gossip concluded about a member.
    struct news {
        protocol::node_id id;
        protocol::gossip_status state = protocol::gossip_status::alive;
        std::optional<protocol::member_meta> meta;   // alive: what it says of itself
    };

    // `self`: what this node says of itself. `incarnation`: its first (above any it had
    // before under this id: the caller uses the wall clock). `seed`: the engine's randomness.
    mesh_gossip(node_context& ctx, mesh_wire& wire, const protocol::member_meta& self,
                std::uint32_t incarnation, std::uint64_t seed);

    // A member that gossips joined us by handshake: it is told of us, and, while we know no
    // other member, asked for its table (how a newcomer learns the mesh in one exchange).
    void linked(const protocol::node_id& id);
    // Its MEMBERS came on the link of `from`, a joined member.
    void on_members(const protocol::node_id& from, const protocol::members& m, clock::time_point now);
    // A datagram came to our gossip socket.
    void on_datagram(std::span<const std::uint8_t> bytes, const discovery::udp_address& source,
                     clock::time_point now);
    // Our link found `id`'s process gone (its port refused us): suspected at once.
    void unreachable(const protocol::node_id& id, clock::time_point now);
    // What this node says of itself changed (the methods it serves).
    void set_self(const protocol::member_meta& self);
    // This node leaves: the news goes out now, to a few members.
    void leave();

    // Probes and timeouts that are due; a push-pull due is left for take_push_pull().
    void on_timers(clock::time_point now);
    // Returns and clears the member to push-pull with, when one became due: the caller links
    // it if need be (a table goes on a link), then send_table(it, true).
    std::optional<protocol::node_id> take_push_pull() { return std::exchange(push_pull_, std::nullopt); }
    // Sends this node's whole table to `to`, on its link, in chunks a control frame holds;
    // `reply_wanted`: asks for its table back (a push-pull).
    void send_table(const protocol::node_id& to, bool reply_wanted);
    clock::time_point next_deadline() const { return engine_.next_deadline(); }

    // Returns: how long until this member beacons again, from the interval of a node alone:
    // `base` until it knows another member, then longer as the mesh grows, so that the mesh
    // as a whole beacons about once a `base` whatever its size (a newcomer beacons at `base`
    // itself, and is found by that). Jittered, or members that started together would
    // beacon together.
    clock::duration beacon_interval(clock::duration base);

    // Returns: the news of every member alive now, as settle() gave it when it changed (for
    // a table that missed some).
    std::vector<news> members_alive() const;
    // Returns and clears the news since the last call.
    std::vector<news> take_news() { return std::exchange(news_, {}); }
    // Returns: members alive or suspect, this node excluded.
    std::size_t live_members() const noexcept { return engine_.live_members(); }

private:
    // Passes on what the engine concluded and sends what it asked to send.
    void settle();
    // Returns: the news of an alive member saying `meta`; none (counted) when the meta does
    // not decode or names nowhere we could reach it.
    std::optional<news> alive_news(const protocol::node_id& id, const std::string& meta) const;
    std::optional<discovery::udp_address> address_of(const protocol::node_id& id) const;

    node_context& ctx_;
    mesh_wire& wire_;
    discovery::gossip::gossip_membership engine_;
    // Each member's gossip address, from what it says of itself (its ROUTER endpoint).
    std::unordered_map<protocol::node_id, discovery::udp_address> addresses_;
    // Where recent datagrams came from, for members not known yet (a newcomer's first ping,
    // a relay's origin). Bounded: cleared when full.
    std::unordered_map<protocol::node_id, discovery::udp_address> sources_;
    std::vector<news> news_;
    std::optional<protocol::node_id> push_pull_;   // due, not taken yet
    std::minstd_rand jitter_;
};

}  // namespace zmesh::detail
