// SPDX-License-Identifier: MPL-2.0
// mesh, links on demand (PROTOCOL.md §16.5; docs/scale.md): past a small mesh, a member that
// gossips lists the members gossip finds without a link, and links one when it calls it,
// sends it a stream's frame, or may take its events (it publishes under a prefix this node
// subscribes to, or does not say what it publishes). The HELLO goes first on the new link,
// so whatever follows it is from a sender the peer knows.
#include "mesh.hpp"

namespace zmesh::detail {

bool mesh::links_everyone() const { return table_.all().size() < ctx_.opts.link_everyone_below; }

bool mesh::wants_link(const discovery::peer& p) const { return links_everyone() || host_.wants_events_from(p); }

void mesh::link_wanted(clock::time_point now) {
    if (!gossip_) return;
    std::vector<protocol::node_id> unlinked;
    for (const auto& [id, p] : table_.all())
        if (!p.linked && wants_link(p)) unlinked.push_back(id);
    // By id: linking tells the host, which must not run while the table is walked.
    for (const auto& id : unlinked)
        if (auto* p = table_.find(id)) link_member(*p, now);
}

bool mesh::link_member(discovery::peer& p, clock::time_point now, std::uint64_t echo) {
    if (!host_.may_dial(p.id)) return false;
    const auto token = protocol::random_link_token();
    if (!wire_.open_link(p.id, p.router_endpoint, token)) return false;
    table_.linked(p, token, now);
    ++ctx_.stats.links_on_demand;
    host_.member_linked(p);
    wire_.send(p.id, hello_message(&p, echo == 0, echo != 0 ? std::optional(echo) : std::nullopt));
    ctx_.log(log_level::debug, "linked " + p.name + " (" + p.id.short_hex() + ") at " + p.router_endpoint);
    return true;
}

void mesh::close_idle_links(clock::time_point now) {
    const auto idle = ctx_.opts.idle_link;
    if (!gossip_ || idle.count() <= 0 || links_everyone()) return;
    std::vector<protocol::node_id> idle_ones;
    table_.for_each_linked([&](const discovery::peer& p) {
        // Only a member that gossips, whose link is up and quiet: the others have no one
        // else to vouch for them, or are in the middle of something.
        // Nor one whose events we take: they come on our SUB's connection, not on the link.
        if (p.gossips && p.heard_hello && !p.observer && p.state == discovery::peer_state::joined && p.link_up &&
            now - p.last_used >= idle && !host_.awaits_from(p.id) && !host_.wants_events_from(p))
            idle_ones.push_back(p.id);
    });
    for (const auto& id : idle_ones) {
        auto* p = table_.find(id);
        const std::string pub_endpoint = p->pub_endpoint;
        table_.unlinked(*p);
        unlink(id, pub_endpoint);
        ++ctx_.stats.links_idle_closed;
        ctx_.log(log_level::debug, "closed the idle link to " + p->name + " (" + id.short_hex() + ")");
    }
}

void mesh::ask_who_it_is(discovery::peer& p, clock::time_point now) {
    // It talks to us on a link of its own that we do not know: we dropped it (gossip said it
    // was dead) while its link stayed, and learnt it again. Its frames are refused until its
    // HELLO, which it sends only in a handshake: we start one, once a heartbeat at most (a
    // stranger claiming its id costs no more than that).
    if (p.linked || now - p.last_challenge < ctx_.opts.liveness.heartbeat) return;
    p.last_challenge = now;
    link_member(p, now);
}

void mesh::push_pull(const protocol::node_id& partner, clock::time_point now) {
    // Past a small mesh most members are unlinked, and a table sent on no link is lost:
    // without this, anti-entropy only ever ran between the few linked members, and a
    // member whose news the start's lost datagrams missed stayed unknown for good. The link
    // closes again once idle; the partner, linked by our HELLO, links back and answers on it.
    auto* p = table_.find(partner);
    if (!p || (!p->linked && !link_member(*p, now))) {
        ++ctx_.stats.sends_dropped;
        return;
    }
    gossip_->send_table(partner, true);
}

bool mesh::send_on_link(const protocol::node_id& peer, zmq::message_t& frame) {
    if (auto* p = table_.find(peer); p && !p->linked) link_member(*p, clock::now());
    return wire_.send_frame(peer, frame);
}

void mesh::meet_member(const protocol::node_id& id, const protocol::member_meta& meta, clock::time_point now) {
    if (meta.observer) return;   // an observer finds the members itself
    auto publishes = meta.publishes_listed ? std::optional(meta.publishes) : std::nullopt;
    if (auto* p = table_.find(id)) {
        // A new incarnation: what it serves or publishes may have changed.
        p->publishes = std::move(publishes);
        if (p->linked) return;
        table_.update_member(*p, meta.name, meta.services);
        if (wants_link(*p)) link_member(*p, now);
        return;
    }
    // A meta that could not list every method it serves leaves its HELLO to say them.
    if (links_everyone() || !meta.services_complete) {
        if (dial(id, meta.name, meta.pub_endpoint, meta.router_endpoint, now, true))
            if (auto* p = table_.find(id)) p->publishes = std::move(publishes);
        return;
    }
    if (!may_take(id, meta.name, meta.pub_endpoint, meta.router_endpoint)) return;
    apply(table_.add_member(id, meta.name, meta.pub_endpoint, meta.router_endpoint, meta.services, now));
    // Listed first, linked after: the host hears of a joined member before of its link.
    auto* p = table_.find(id);
    if (!p) return;
    p->publishes = std::move(publishes);
    if (host_.wants_events_from(*p)) link_member(*p, now);
}

}  // namespace zmesh::detail
