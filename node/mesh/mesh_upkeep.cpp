// SPDX-License-Identifier: MPL-2.0
// mesh, over time: its timers (liveness, heartbeats, beacons, seeds, stats polls, gossip's
// rounds) and what they bring, gossip's datagrams and news, PEERS for newcomers, and LEAVE
// on the way out.
#include "mesh.hpp"

#include <algorithm>

namespace zmesh::detail {

namespace {

constexpr auto never = std::chrono::hours(1);

// A node that gossips wakes every probe period anyway (and to each probe's ack): its liveness
// checks and heartbeats go along with whatever wakes it within this of their time, rather
// than waking it on their own. Idle, what a large mesh costs is its members' wake-ups.
constexpr std::chrono::milliseconds timer_slack{60};

}  // namespace

void mesh::send_peer_list(const protocol::node_id& to, bool plain_only) {
    protocol::peers list;
    for (const auto& [id, p] : table_.all()) {
        if (id == to || p.observer || p.state == discovery::peer_state::connecting) continue;
        if (plain_only && p.gossips) continue;
        list.list.push_back({id, p.name, p.advertised_pub, p.advertised_router});
        if (list.list.size() == protocol::max_peers_per_list) {
            wire_.send(to, list);
            list.list.clear();
        }
    }
    if (!list.list.empty()) wire_.send(to, list);
}

void mesh::send_heartbeats(clock::time_point now) {
    // Members known by gossip alone are probed by gossip.
    table_.for_each_linked([&](discovery::peer& p) {
        const auto& id = p.id;
        if (p.state == discovery::peer_state::connecting || !p.heard_hello) {
            // Handshake retry (a member known by gossip and linked since waits for its HELLO
            // too): cheap, and it heals a peer that dropped our first HELLO.
            wire_.send(id, hello_message(&p, true));
        } else if (const bool used = wire_.take_used(id); used || p.rtt_us < 0 || (gossip_ && !p.gossips)) {
            if (used) p.last_used = now;
            // Liveness is libzmq's heartbeat (see links); this PING measures the round trip,
            // and only of a link in use: on an idle one, each message we queue is memory.
            // A node that gossips has no such heartbeat: it pings the peers that do not
            // gossip, whose silence then judges them (peer_table).
            wire_.send(id, protocol::ping{now_us(now)});
            ++ctx_.stats.pings_sent;
        }
    });
}

void mesh::contact_seeds() {
    // Seeds are asked again and again: a restarted seed, or one across a healed partition,
    // learns of us from the next probe.
    wire_.probe_seeds(hello_message(nullptr, true));
}

void mesh::poll_stats() {
    table_.for_each_linked([&](const discovery::peer& p) {
        if (p.state != discovery::peer_state::connecting && !p.observer) wire_.send(p.id, protocol::stats_query{});
    });
}

void mesh::on_gossip(std::span<const std::uint8_t> bytes, const discovery::udp_address& source,
                     clock::time_point now) {
    if (!gossip_) return;
    gossip_->on_datagram(bytes, source, now);
    apply_gossip(now);
}

void mesh::apply_gossip(clock::time_point now) {
    for (const auto& n : gossip_->take_news()) {
        if (n.id == ctx_.id) continue;
        if (n.state == protocol::gossip_status::alive) {
            if (n.meta) meet_member(n.id, *n.meta, now);
        } else if (n.state != protocol::gossip_status::suspect) {
            auto* p = table_.find(n.id);
            if (p && !p->linked) {
                // Known by gossip alone, it is judged by gossip alone.
                drop_peer(n.id, n.state == protocol::gossip_status::left ? discovery::leave_reason::leave
                                                                         : discovery::leave_reason::expired);
            } else if (p) {
                // Hearsay, as a forged datagram could be: the member is asked directly.
                auto change = table_.doubt(*p, now);
                if (change) wire_.send(n.id, protocol::ping{now_us(now)});
                apply(std::move(change));
            }
        }
    }
}

void mesh::services_changed() {
    if (gossip_) gossip_->set_self(self_meta());
    // Linked peers learn the new list from a fresh HELLO (the others from gossip). One still
    // handshaking may already hold our old HELLO: ask it to answer, so the handshake
    // completes with the new list.
    table_.for_each_linked([&](const discovery::peer& p) {
        wire_.send(p.id, hello_message(&p, p.state == discovery::peer_state::connecting));
    });
}

void mesh::on_timers(clock::time_point now) {
    const auto& opts = ctx_.opts;
    const auto due = [&](clock::time_point at) { return now >= at || (gossip_ && now + timer_slack >= at); };
    if (due(next_liveness_)) {
        std::vector<discovery::peer> dropped;
        apply(table_.tick(now, &dropped));
        for (const auto& p : dropped) unlink(p.id, p.pub_endpoint);
        // Its links unheartbeated, a node that gossips judges few peers by the clock: it
        // checks them with its heartbeats.
        next_liveness_ = now + (gossip_ ? opts.liveness.heartbeat
                                        : std::min(opts.liveness.heartbeat, std::chrono::milliseconds(100)));
    }
    if (due(next_heartbeat_)) {
        send_heartbeats(now);
        next_heartbeat_ = now + opts.liveness.heartbeat;
    }
    if (opts.beacon_interval.count() <= 0) {
        next_beacon_ = now + never;
    } else if (now >= next_beacon_ && !opts.observer) {
        // A member that gossips and is still joining (it dialled or was dialled, and gossip
        // has not yet told it of a member) was found: its beacon would only reach every node
        // again. When many start at once, those repeats are most of what the start costs.
        const bool joining = gossip_ && gossip_->live_members() == 0 && !table_.all().empty();
        if (!joining) wire_.send_beacon(false);
        next_beacon_ = now + (gossip_ ? gossip_->beacon_interval(opts.beacon_interval) : clock::duration(opts.beacon_interval));
    } else if (now >= next_beacon_) {
        // An observer is no member to find; until it knows one it asks for the members'
        // beacons, which in a large mesh each member sends seldom (§5.2 rule 4): soon, then
        // less often up to the beacon interval, as a monitor of an empty mesh may ask for hours.
        const bool asks = !knows_member();
        if (asks) wire_.send_beacon(true);
        next_beacon_ = now + std::min(ask_retry_, opts.beacon_interval);
        ask_retry_ = asks ? std::min(ask_retry_ * 2, opts.beacon_interval) : first_ask_retry;
    }
    if (opts.stats_poll.count() <= 0) {
        next_stats_poll_ = now + never;
    } else if (now >= next_stats_poll_) {
        poll_stats();
        next_stats_poll_ = now + opts.stats_poll;
    }
    if (now >= next_seed_) {
        contact_seeds();
        // The first HELLOs often meet a probe still connecting (IMMEDIATE drops them): ask
        // again soon, then back off to the seed interval.
        next_seed_ = now + (wire_.has_seeds() ? std::min(seed_retry_, opts.seed_interval) : never);
        seed_retry_ = std::min(seed_retry_ * 2, opts.seed_interval);
    }
    if (gossip_) {
        gossip_->on_timers(now);
        if (const auto partner = gossip_->take_push_pull()) push_pull(*partner, now);
        apply_gossip(now);
        if (due(next_recheck_)) {
            recheck_members(now);
            next_recheck_ = now + std::chrono::seconds(1);
        }
    }
}

void mesh::recheck_members(clock::time_point now) {
    link_wanted(now);
    close_idle_links(now);
    // A member gossip knows alive that the table lacks (its news came while another held its
    // endpoints, or its link failed while gossip still heard it) is met again. Only then:
    // this decodes every member's meta. Only linked peers may be anything but members that
    // gossip (observers, plain members, newcomers in handshake): the count walks those alone.
    std::size_t others = 0;
    table_.for_each_linked([&](const discovery::peer& p) {
        others += !p.gossips || p.state == discovery::peer_state::connecting;
    });
    if (table_.all().size() - others >= gossip_->live_members()) return;
    for (const auto& n : gossip_->members_alive())
        if (!table_.find(n.id)) meet_member(n.id, *n.meta, now);
}

mesh::clock::time_point mesh::next_deadline() const {
    const auto next = std::min({next_beacon_, next_seed_, next_stats_poll_});
    if (!gossip_) return std::min({next, next_heartbeat_, next_liveness_});
    return std::min({next, gossip_->next_deadline(), next_recheck_ + timer_slack, next_heartbeat_ + timer_slack,
                     next_liveness_ + timer_slack});
}

void mesh::leave_all() {
    if (gossip_) gossip_->leave();
    // Peers still in handshake too: our HELLO may have made one count us as joined before
    // its answer reached us, and without LEAVE it would learn of the stop only by timeout.
    table_.for_each_linked([&](const discovery::peer& p) { wire_.send(p.id, protocol::leave{p.their_token}); });
}

}  // namespace zmesh::detail
