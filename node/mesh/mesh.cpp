// SPDX-License-Identifier: MPL-2.0
// mesh: dialling, the HELLO handshake, LEAVE, PEERS, liveness and the timers that drive them.
#include "mesh.hpp"

#include "discovery/link_trust.hpp"

#include <algorithm>
#include <random>

namespace zmesh::detail {

mesh::mesh(node_context& ctx, mesh_wire& wire, mesh_host& host)
    : ctx_(ctx), wire_(wire), host_(host), table_(ctx.opts.liveness, !ctx.gossips()) {}

void mesh::advertise(std::string pub_endpoint, std::string router_endpoint) {
    self_pub_ = std::move(pub_endpoint);
    self_router_ = std::move(router_endpoint);
    if (!ctx_.gossips() || gossip_) return;
    // The wall clock's seconds: a node restarted under the same id starts above what it had.
    const auto incarnation = static_cast<std::uint32_t>(unix_now_us() / 1'000'000);
    gossip_.emplace(ctx_, wire_, self_meta(), incarnation, std::random_device{}());
}

protocol::member_meta mesh::self_meta() const {
    protocol::member_meta m{ctx_.opts.name, self_pub_, self_router_, ctx_.opts.observer, host_.served_methods(), true};
    if (auto published = host_.published_prefixes()) {
        m.publishes_listed = true;
        m.publishes = std::move(*published);
    }
    return m;
}

bool mesh::may_take(const protocol::node_id& id, const std::string& name, const std::string& pub_endpoint,
                    const std::string& router_endpoint) {
    // A key we do not allow is never dialled, and so never takes a member's place.
    if (!host_.may_dial(id)) return false;
    // Two processes cannot listen on one host:port, so a newcomer named at a known peer's
    // endpoints means one of the two is wrong. Anyone can send a beacon or a PEERS entry
    // naming any id anywhere, so the newcomer takes the endpoints only once the holder's
    // link failed (a restarted process), or when it proved itself (on_hello).
    if (auto* holder = table_.holder_of(pub_endpoint, router_endpoint, id)) {
        if (discovery::claim_endpoints(*holder) == discovery::endpoint_claim::held) {
            ++ctx_.stats.endpoint_conflicts;
            ctx_.warn_once("conflict " + id.hex(), log_level::info,
                           "not dialling " + name + " (" + id.short_hex() + ") at " + router_endpoint +
                               ": " + holder->name + " (" + holder->id.short_hex() + ") is there");
            return false;
        }
        drop_peer(holder->id, discovery::leave_reason::replaced);
    }
    if (table_.all().size() >= ctx_.opts.max_peers) {
        ++ctx_.stats.peers_refused;
        ctx_.warn_once("max peers", log_level::warn,
                       "peer table full (max_peers " + std::to_string(ctx_.opts.max_peers) +
                           "): not dialling " + name + " (" + id.short_hex() +
                           ") nor any other newcomer until one leaves");
        return false;
    }
    return true;
}

bool mesh::dial(const protocol::node_id& id, const std::string& name, const std::string& pub_endpoint,
                const std::string& router_endpoint, clock::time_point now, bool want_reply,
                std::uint64_t echo) {
    if (!may_take(id, name, pub_endpoint, router_endpoint)) return false;
    const auto token = protocol::random_link_token();
    if (!wire_.open_link(id, router_endpoint, token)) return false;
    auto& p = table_.add(id, name, pub_endpoint, router_endpoint, now, token);
    host_.peer_dialled(id, name, pub_endpoint);
    wire_.send(id, hello_message(&p, want_reply, echo));
    ctx_.log(log_level::debug, "dialled " + name + " (" + id.short_hex() + ") at " + router_endpoint);
    return true;
}

protocol::hello mesh::hello_message(const discovery::peer* to, bool want_reply,
                                    std::optional<std::uint64_t> echo) const {
    protocol::hello h;
    if (to) {
        h.token = to->our_token;
        h.echo = echo.value_or(to->their_token);
    }
    h.mesh = ctx_.opts.mesh;
    h.id = ctx_.id;
    h.name = ctx_.opts.name;
    h.pub_endpoint = self_pub_;
    h.router_endpoint = self_router_;
    h.services = host_.served_methods();
    h.flags = static_cast<std::uint8_t>((ctx_.opts.observer ? protocol::hello_flag_observer : 0) |
                                        (want_reply ? protocol::hello_flag_want_reply : 0) |
                                        (gossip_ ? protocol::hello_flag_gossip : 0) |
                                        protocol::hello_flag_call_links);
    return h;
}

discovery::peer* mesh::known_sender(const std::optional<protocol::sender_route>& route, clock::time_point now) {
    discovery::peer* p = nullptr;
    if (route && last_sender_.version == table_.version() && last_sender_.id == route->id) {
        p = last_sender_.peer;
    } else if (route && (p = table_.find(route->id))) {
        last_sender_ = {route->id, p, table_.version()};
    }
    // A member known by gossip alone has not said which link is its own: not yet a sender.
    if (p && p->state != discovery::peer_state::connecting && !p->heard_hello) ask_who_it_is(*p, now);
    if (!p || p->state == discovery::peer_state::connecting || !p->heard_hello) {
        ++ctx_.stats.frames_unknown_sender;
        return nullptr;
    }
    // Its link's routing id carries the token it gave us: a connection without it is not
    // its link, whatever id it claims (PROTOCOL.md §6.6).
    if (p->their_token != 0 && route->token != p->their_token) {
        ++ctx_.stats.frames_wrong_link;
        ctx_.warn_once("wrong link " + p->id.hex(), log_level::warn,
                       "dropped frames claiming to be " + p->name + " (" + p->id.short_hex() +
                           ") from a connection that is not its link");
        return nullptr;
    }
    p->last_used = now;
    apply(table_.on_traffic(*p, now));   // any traffic is a sign of life
    return p;
}

discovery::peer* mesh::member(const protocol::node_id& id) {
    auto* p = table_.find(id);
    if (!p || p->state == discovery::peer_state::connecting) {
        ++ctx_.stats.frames_unknown_sender;
        return nullptr;
    }
    return p;
}

void mesh::peer_alive(const protocol::node_id& peer, clock::time_point now) {
    if (auto* p = table_.find(peer)) {
        p->last_used = now;   // a reply came on our link or call link
        apply(table_.on_traffic(*p, now));
    }
}

void mesh::on_control(const std::optional<protocol::sender_route>& sender, protocol::control& msg,
                      clock::time_point now) {
    if (const auto* h = std::get_if<protocol::hello>(&msg)) {
        on_hello(*h, now);
        return;
    }
    if (const auto* l = std::get_if<protocol::leave>(&msg)) {
        on_leave(sender ? std::optional(sender->id) : std::nullopt, l->token);
        return;
    }
    // Every other message must come from a peer we have completed a handshake with.
    auto* p = known_sender(sender, now);
    if (!p) return;
    const protocol::node_id id = p->id;
    if (const auto* ping = std::get_if<protocol::ping>(&msg)) {
        wire_.send(id, protocol::pong{ping->token});
    } else if (const auto* pong = std::get_if<protocol::pong>(&msg)) {
        const auto sent = pong->token, received = now_us(now);
        if (sent <= received) p->rtt_us = static_cast<std::int64_t>(received - sent);
    } else if (const auto* list = std::get_if<protocol::peers>(&msg)) {
        // Between members that gossip it names only those that do not (§7.4 rule 3).
        for (const auto& e : list->list)
            if (e.id != ctx_.id && !table_.find(e.id))
                dial(e.id, e.name, e.pub_endpoint, e.router_endpoint, now, true);
    } else if (const auto* m = std::get_if<protocol::members>(&msg)) {
        if (!gossip_ || !p->gossips) {
            ++ctx_.stats.frames_invalid;   // MEMBERS only between members that both gossip
            return;
        }
        gossip_->on_members(id, *m, now);
        apply_gossip(now);
    } else if (auto* s = std::get_if<protocol::subs>(&msg)) {
        host_.peer_subscribes(*p, std::move(*s));
    } else if (std::holds_alternative<protocol::stats_query>(msg)) {
        host_.stats_asked(id);
    } else if (auto* st = std::get_if<protocol::stats>(&msg)) {
        p->reported = std::move(st->counters);
    }
}

void mesh::on_hello(const protocol::hello& h, clock::time_point now) {
    if (h.id == ctx_.id) return;   // a seed that is ourselves
    if (h.mesh != ctx_.opts.mesh) {
        ++ctx_.stats.hellos_foreign_mesh;
        ctx_.log(log_level::debug, "ignored HELLO from " + h.name + " of mesh '" + h.mesh + "'");
        return;
    }
    const bool want_reply = (h.flags & protocol::hello_flag_want_reply) != 0;
    auto* p = table_.find(h.id);
    if (!p) {
        // A newcomer quoting the token we sent another peer's ROUTER got our HELLO there: it
        // listens at those endpoints now, so that peer's process is gone (restarted on its
        // ports). Nothing else lets a newcomer take a live member's endpoints (see dial).
        if (auto* there = table_.given(h.echo)) {
            ctx_.log(log_level::info, h.name + " (" + h.id.short_hex() + ") answered at the endpoints of " +
                                          there->name + " (" + there->id.short_hex() + "): replaced");
            drop_peer(there->id, discovery::leave_reason::replaced);
        }
        // It found us first (beacon, seed or peer list): dial back, our HELLO answering its.
        if (!dial(h.id, h.name, h.pub_endpoint, h.router_endpoint, now, false, h.token)) return;
        if (!(p = table_.find(h.id))) return;
    } else if (!p->linked) {
        // Known by gossip alone, it links us (it calls us, or takes our events): we link it
        // back, our HELLO answering its, as we would a newcomer's.
        if (!link_member(*p, now, h.token)) return;
    } else if (discovery::trust_hello(*p, h) == discovery::hello_trust::unverified) {
        // Not the node we dialled, or that node after dropping us and dialling us again
        // (a new token): nothing is taken from it. The node we dialled is asked, through
        // our link, to prove itself by quoting our token; its answer is authentic, a
        // stranger never sees the question. Asked once a heartbeat at most.
        ++ctx_.stats.hellos_unverified;
        if (now - p->last_challenge >= ctx_.opts.liveness.heartbeat) {
            p->last_challenge = now;
            wire_.send(h.id, hello_message(p, true, h.token));
        }
        return;
    } else if (want_reply) {
        wire_.send(h.id, hello_message(p, false, h.token));
    }
    host_.peer_named(h.id, h.name);
    auto change = table_.on_hello(*p, h, now);
    const bool joined = change && change->kind == discovery::change_kind::joined;
    const bool gossips = p->gossips;   // `p` may not outlive apply()
    apply(std::move(change));
    if (!joined || ctx_.opts.observer) return;
    // A member that gossips is told of us by MEMBERS (and asked for its table while we know
    // nobody: mesh_gossip::linked), and of the members that do not gossip by PEERS: gossip's
    // tables hold none of them. The others get PEERS naming everyone.
    if (gossip_ && gossips) {
        gossip_->linked(h.id);
        send_peer_list(h.id, true);
    } else {
        send_peer_list(h.id, false);
    }
}

void mesh::on_leave(const std::optional<protocol::node_id>& id, std::uint64_t token) {
    const auto* p = id ? table_.find(*id) : nullptr;
    if (!p) {
        ++ctx_.stats.frames_unknown_sender;
        return;
    }
    // Only the node we dialled holds our token: anyone can send a LEAVE naming any id.
    if (!discovery::leave_authentic(*p, token)) {
        ++ctx_.stats.leaves_unverified;
        ctx_.warn_once("leave " + p->id.hex(), log_level::warn,
                       "ignored a LEAVE for " + p->name + " (" + p->id.short_hex() +
                           ") that does not quote the token we gave it: forged, or from an older node");
        return;
    }
    // From a peer in any state: one still in handshake with us is gone as well (it sends
    // LEAVE to every peer it dialled), and dropping it stops us dialling it.
    drop_peer(*id, discovery::leave_reason::leave);
}

void mesh::on_beacon(const protocol::beacon& b, const std::string& host, clock::time_point now) {
    auto* p = table_.find(b.id);
    const bool known = p != nullptr;
    if (known) apply(table_.on_traffic(*p, now));   // `p` may not outlive apply()
    // An observer's question is not dialled: it dials the members that answer.
    if (b.asking) {
        ++ctx_.stats.beacon_questions;
        return answer_asking(now);
    }
    if (known || !dial_beaconer()) return;
    dial(b.id, b.name, "tcp://" + host + ":" + std::to_string(b.pub_port),
         "tcp://" + host + ":" + std::to_string(b.router_port), now, true);
}

namespace {

// Asking beacons (PROTOCOL.md §5.2 rule 4): about this many members answer each question,
// each within answer_within, and none more often than once per answer_spacing.
constexpr double answerers = 3.0;
constexpr std::chrono::milliseconds answer_within{100};
constexpr std::chrono::milliseconds answer_spacing{500};

}  // namespace

void mesh::answer_asking(clock::time_point now) {
    if (ctx_.opts.observer || ctx_.opts.beacon_interval.count() <= 0) return;
    // Every member that hears the question could answer; each does with a chance of
    // answerers / members, so a few beacons answer whatever the mesh's size (the asker
    // learns the rest from the first member it dials), each after a random delay so that
    // they do not all go at once. A forger's questions cost the mesh a bounded rate.
    if (last_answer_ != clock::time_point{} && now - last_answer_ < answer_spacing) return;
    const auto members = static_cast<double>(table_.all().size() + 1);
    if (std::uniform_real_distribution<double>(0.0, members)(dice_) >= answerers) return;
    last_answer_ = now;
    ++ctx_.stats.beacon_answers;
    const auto delay = std::chrono::milliseconds(
        std::uniform_int_distribution<std::int64_t>(0, answer_within.count())(dice_));
    next_beacon_ = std::min(next_beacon_, now + delay);
}

bool mesh::dial_beaconer() {
    if (!gossip_ || links_everyone()) return true;
    const auto members = static_cast<double>(table_.all().size() + 1);
    return std::uniform_real_distribution<double>(0.0, members)(dice_) < answerers;
}

bool mesh::knows_member() const {
    for (const auto& [id, p] : table_.all())
        if (!p.observer && p.state != discovery::peer_state::connecting) return true;
    return false;
}

void mesh::on_link_event(const protocol::node_id& id, link_event e, clock::time_point now) {
    auto* p = table_.find(id);
    if (!p) return;   // closed meanwhile
    switch (e) {
        case link_event::down:
            ++ctx_.stats.link_disconnects;
            ctx_.log(log_level::debug, "connection to " + p->name + " dropped");
            apply(table_.on_disconnect(*p, now));
            break;
        case link_event::up:
            // Back after a drop: whoever listens there now is asked who it is. The peer
            // answers as itself; a process restarted on its ports answers with its own id,
            // quoting our token, and so replaces it (on_hello).
            if (p->state != discovery::peer_state::connecting && p->disconnected_at) wire_.send(id, hello_message(p, true));
            // Not CONNECTED: the kernel completes a TCP connect to a stopped process.
            apply(table_.on_link_up(*p, now));
            break;
        case link_event::retry_failed: {
            const protocol::node_id gone = id;   // `id` may live in what apply() closes
            auto change = table_.on_reconnect_failed(*p);
            const bool left = change && change->kind == discovery::change_kind::left;
            apply(std::move(change));
            // The port refused us: the process is gone, which gossip spreads as a suspicion.
            if (left && gossip_) {
                gossip_->unreachable(gone, now);
                apply_gossip(now);
            }
            break;
        }
    }
}

void mesh::drop_peer(protocol::node_id id, discovery::leave_reason why) {
    const auto* p = table_.find(id);
    if (!p) return;
    const std::string pub_endpoint = p->pub_endpoint;
    auto change = table_.remove(id, why);
    unlink(id, pub_endpoint);
    if (change) host_.peer_changed(*change);
}

void mesh::unlink(const protocol::node_id& id, const std::string& pub_endpoint) {
    wire_.close_link(id);
    host_.peer_unlinked(id, pub_endpoint);
}

void mesh::apply(std::optional<discovery::peer_change> change) {
    if (!change) return;
    if (change->kind == discovery::change_kind::left) unlink(change->snapshot.id, change->snapshot.pub_endpoint);
    if (change->kind == discovery::change_kind::joined) warn_if_name_shared(change->snapshot);
    host_.peer_changed(*change);
}

void mesh::apply(std::vector<discovery::peer_change> changes) {
    for (auto& c : changes) apply(std::optional(std::move(c)));
}

void mesh::warn_if_name_shared(const discovery::peer& joined) {
    if (joined.observer) return;
    for (const auto& [id, p] : table_.all())
        if (id != joined.id && !p.observer && p.state != discovery::peer_state::connecting && p.name == joined.name)
            ctx_.log(log_level::warn, "two members are named '" + joined.name + "': " + p.id.short_hex() +
                                          " at " + p.router_endpoint + " and " + joined.id.short_hex() +
                                          " at " + joined.router_endpoint + " (calls by that name are ambiguous)");
}

}  // namespace zmesh::detail
