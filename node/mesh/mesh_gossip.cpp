// SPDX-License-Identifier: MPL-2.0
// mesh_gossip: the engine's inputs and outputs, as datagrams, MEMBERS and news.
#include "mesh_gossip.hpp"

#include "protocol/gossip.hpp"

#include <algorithm>

namespace zmesh::detail {

namespace {

discovery::gossip::config config_of(const options& opts) {
    discovery::gossip::config c;
    // Forged news of members that do not exist must not grow the table past what the node
    // would hold as peers.
    c.max_members = opts.max_peers;
    return c;
}

// Bounds the addresses kept for senders not yet known as members.
constexpr std::size_t max_sources = 256;

}  // namespace

mesh_gossip::mesh_gossip(node_context& ctx, mesh_wire& wire, const protocol::member_meta& self,
                         std::uint32_t incarnation, std::uint64_t seed)
    : ctx_(ctx),
      wire_(wire),
      engine_(ctx.id, protocol::encode_member_meta(self), incarnation, config_of(ctx.opts), seed),
      jitter_(static_cast<std::minstd_rand::result_type>(seed)) {}

mesh_gossip::clock::duration mesh_gossip::beacon_interval(clock::duration base) {
    const auto members = engine_.live_members() + 1;
    if (members == 1) return base;
    std::uniform_real_distribution<double> around(0.5, 1.5);
    return std::chrono::duration_cast<clock::duration>(base * (static_cast<double>(members) * around(jitter_)));
}

void mesh_gossip::linked(const protocol::node_id& id) {
    // The peer learns us from our own update; the whole table only on request: sent to every
    // member that joins, a cold start of N members would move N³ updates. A member that
    // knows no other yet asks for the peer's, and so learns the mesh in one exchange.
    protocol::members m;
    const auto peer = engine_.find(id);
    const bool peer_live = peer && discovery::gossip::is_live(peer->state);
    m.reply_wanted = engine_.live_members() == (peer_live ? 1u : 0u);
    m.list.push_back(engine_.self());
    wire_.send(id, m);
}

void mesh_gossip::on_members(const protocol::node_id& from, const protocol::members& m, clock::time_point now) {
    engine_.merge(m.list, now);
    settle();
    if (m.reply_wanted) send_table(from, false);
}

void mesh_gossip::on_datagram(std::span<const std::uint8_t> bytes, const discovery::udp_address& source,
                              clock::time_point now) {
    auto d = protocol::decode_gossip(bytes);
    if (!d || d->mesh != ctx_.opts.mesh || d->from == ctx_.id) {
        ++ctx_.stats.gossip_invalid;
        return;
    }
    ++ctx_.stats.gossip_received;
    if (!addresses_.contains(d->from)) {
        if (sources_.size() >= max_sources) sources_.clear();
        sources_[d->from] = source;
    }
    engine_.on_message(d->from, d->message, now);
    settle();
}

void mesh_gossip::unreachable(const protocol::node_id& id, clock::time_point now) {
    engine_.on_unreachable(id, now);
    settle();
}

void mesh_gossip::set_self(const protocol::member_meta& self) {
    engine_.set_meta(protocol::encode_member_meta(self));
}

void mesh_gossip::leave() {
    engine_.leave();
    settle();
}

void mesh_gossip::on_timers(clock::time_point now) {
    engine_.tick(now);
    if (auto partner = engine_.push_pull_due(now)) push_pull_ = partner;
    settle();
}

void mesh_gossip::send_table(const protocol::node_id& to, bool reply_wanted) {
    // The answer is asked for once.
    const auto all = engine_.snapshot();
    for (std::size_t at = 0; at < all.size(); at += protocol::max_members_per_message) {
        protocol::members m;
        m.reply_wanted = reply_wanted && at == 0;
        const auto end = std::min(all.size(), at + protocol::max_members_per_message);
        m.list.assign(all.begin() + static_cast<std::ptrdiff_t>(at), all.begin() + static_cast<std::ptrdiff_t>(end));
        wire_.send(to, m);
    }
}

std::optional<discovery::udp_address> mesh_gossip::address_of(const protocol::node_id& id) const {
    if (const auto it = addresses_.find(id); it != addresses_.end()) return it->second;
    if (const auto it = sources_.find(id); it != sources_.end()) return it->second;
    return std::nullopt;
}

std::optional<mesh_gossip::news> mesh_gossip::alive_news(const protocol::node_id& id, const std::string& meta) const {
    auto m = protocol::decode_member_meta({reinterpret_cast<const std::uint8_t*>(meta.data()), meta.size()});
    if (!m || !discovery::udp_address_of(m->router_endpoint)) {
        // Alive, but nowhere we could reach it: counted, and not passed on.
        ++ctx_.stats.gossip_invalid;
        return std::nullopt;
    }
    return news{id, protocol::gossip_status::alive, std::move(*m)};
}

std::vector<mesh_gossip::news> mesh_gossip::members_alive() const {
    std::vector<news> all;
    for (const auto& u : engine_.snapshot()) {
        // A suspect's update carries no meta: it was passed on when it was alive.
        if (u.id == ctx_.id || u.state != protocol::gossip_status::alive) continue;
        if (auto n = alive_news(u.id, u.meta)) all.push_back(std::move(*n));
    }
    return all;
}

void mesh_gossip::settle() {
    for (auto& c : engine_.take_changes()) {
        news n{c.id, c.state, std::nullopt};
        if (c.state == protocol::gossip_status::alive) {
            auto alive = alive_news(c.id, c.meta);
            if (!alive) continue;
            addresses_[c.id] = *discovery::udp_address_of(alive->meta->router_endpoint);
            sources_.erase(c.id);
            n = std::move(*alive);
        } else if (c.state != protocol::gossip_status::suspect) {
            addresses_.erase(c.id);
        }
        news_.push_back(std::move(n));
    }
    for (auto& out : engine_.take_outgoing()) {
        const auto to = address_of(out.to);
        if (!to) {
            ++ctx_.stats.gossip_unsent;
            continue;
        }
        // The engine took only the news that fits a datagram (gossip_updates_room).
        const auto bytes = protocol::encode_gossip({ctx_.opts.mesh, ctx_.id, std::move(out.msg)});
        if (wire_.send_gossip(*to, bytes))
            ++ctx_.stats.gossip_sent;
        else
            ++ctx_.stats.gossip_unsent;
    }
}

}  // namespace zmesh::detail
