// SPDX-License-Identifier: MPL-2.0
// reactor, discovery half: seeds, the HELLO handshake, heartbeats and LEAVE
// (beacons: reactor_beacons.cpp). Every byte read here comes from the network: decode errors are counted, never
// thrown, never asserted.
#include "reactor.hpp"

#include "discovery/link_trust.hpp"
#include "pipe.hpp"
#include "protocol/endpoint.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>

#include <system_error>

namespace zmesh::detail {

namespace {


std::uint64_t now_us(clock::time_point t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

}  // namespace

bool reactor::dial(const node_id& id, const std::string& name, const std::string& pub_endpoint,
                   const std::string& router_endpoint, clock::time_point now, bool want_reply,
                   std::uint64_t echo) {
    // A key we do not allow is never dialled, and so never takes a member's place.
    if (!security_.may_dial(id)) return false;
    // Two processes cannot listen on one host:port, so a newcomer named at a known peer's
    // endpoints means one of the two is wrong. Anyone can send a beacon or a PEERS entry
    // naming any id anywhere, so the newcomer takes the endpoints only once the holder's
    // link failed (a restarted process), or when it proved itself (on_hello).
    if (auto* holder = table_.holder_of(pub_endpoint, router_endpoint, id)) {
        if (discovery::claim_endpoints(*holder) == discovery::endpoint_claim::held) {
            ++stats_.endpoint_conflicts;
            ctx_.warn_once("conflict " + id.hex(), log_level::info,
                      "not dialling " + name + " (" + id.short_hex() + ") at " + router_endpoint +
                          ": " + holder->name + " (" + holder->id.short_hex() + ") is there");
            return false;
        }
        drop_peer(holder->id, leave_reason::replaced);
    }

    if (table_.all().size() >= opts_.max_peers) {
        ++stats_.peers_refused;
        ctx_.warn_once("max peers", log_level::warn,
                  "peer table full (max_peers " + std::to_string(opts_.max_peers) + "): not dialling " +
                      name + " (" + id.short_hex() + ") nor any other newcomer until one leaves");
        return false;
    }
    const auto token = protocol::random_link_token();
    if (!open_link(id, router_endpoint, token)) return false;
    auto& p = table_.add(id, name, pub_endpoint, router_endpoint, now, token);
    subscriber_.peer_dialled(id, name, pub_endpoint);
    send_to(id, hello_message(&p, want_reply, echo));
    log(log_level::debug, "dialled " + name + " (" + id.short_hex() + ") at " + router_endpoint);
    return true;
}

protocol::hello reactor::hello_message(const discovery::peer* to, bool want_reply,
                                       std::optional<std::uint64_t> echo) const {
    protocol::hello h;
    if (to) {
        h.token = to->our_token;
        h.echo = echo.value_or(to->their_token);
    }
    h.mesh = opts_.mesh;
    h.id = id_;
    h.name = opts_.name;
    h.pub_endpoint = self_pub_;
    h.router_endpoint = self_router_;
    h.services = server_.methods();
    h.flags = static_cast<std::uint8_t>((opts_.observer ? protocol::hello_flag_observer : 0) |
                                        (want_reply ? protocol::hello_flag_want_reply : 0) |
                                        protocol::hello_flag_call_links);
    return h;
}

void reactor::send_to(const node_id& id, const protocol::control& msg) {
    if (const auto it = links_.find(id); it != links_.end()) send_control(it->second, msg);
}

bool reactor::on_router(clock::time_point now) {
    zmq::message_t routing_id, frame;
    for (int i = 0; i < max_batch; ++i) {
        // What the last message's callback asked for (a pipelined caller's next call) goes
        // out before the next message is read, not at the end of the round: libzmq's I/O
        // thread sends it while this loop goes on (pipelined calls/s +10%).
        run_posted();
        if (stopping_) return false;
        bool one_frame = false;
        if (!recv_routed(router_, routing_id, frame, one_frame)) return true;
        // Every message is one frame after the routing id: control or RPC, told by its type.
        if (!one_frame) {
            ++stats_.frames_invalid;
            continue;
        }
        const auto route = protocol::read_routing_id(bytes_of(routing_id));
        const auto sender = route ? std::optional(route->id) : std::nullopt;
        const std::span bytes(frame.data<std::uint8_t>(), frame.size());
        const auto head = protocol::peek_header(bytes);
        const bool rpc = head && (head->type == protocol::request_type || head->type == protocol::reply_type);
        if (route && route->call_link && !(rpc && head->type == protocol::request_type)) {
            ++stats_.frames_invalid;   // a call link carries REQUESTs, nothing else
            continue;
        }
        if (rpc) {
            if (!admits(sender, frame)) continue;
            // A known sender means a route: only a routing id that is a node's id names one.
            if (auto* p = known_sender(route, now)) {
                routed_frame in{*route, routing_id, frame, bytes};
                on_rpc(*p, in, head->type, now);
            }
            continue;
        }
        auto msg = protocol::decode_control(bytes);
        if (!msg) {
            ++(msg.error() == protocol::errc::bad_version    ? stats_.frames_bad_version
               : msg.error() == protocol::errc::unknown_type ? stats_.frames_unknown_type
                                                              : stats_.frames_invalid);
            log(log_level::debug, "dropped frame: " + std::string(protocol::to_string(msg.error())));
            continue;
        }
        // A HELLO speaks for the id inside it (a seed probe has no routing id of ours);
        // everything else for its routing id.
        const auto* hello = std::get_if<protocol::hello>(&*msg);
        if (!admits(hello ? std::optional(hello->id) : sender, frame)) continue;
        on_control(route, *msg, now);
    }
    return false;   // a full batch: more may be waiting
}

discovery::peer* reactor::known_sender(const std::optional<protocol::sender_route>& route,
                                       clock::time_point now) {
    discovery::peer* p = nullptr;
    if (route && last_sender_.version == table_.version() && last_sender_.id == route->id) {
        p = last_sender_.peer;
    } else if (route && (p = table_.find(route->id))) {
        last_sender_ = {route->id, p, table_.version()};
    }
    if (!p || p->state == peer_state::connecting) {
        ++stats_.frames_unknown_sender;
        return nullptr;
    }
    // Its link's routing id carries the token it gave us: a connection without it is not
    // its link, whatever id it claims (PROTOCOL.md §6.6).
    if (p->their_token != 0 && route->token != p->their_token) {
        ++stats_.frames_wrong_link;
        ctx_.warn_once("wrong link " + p->id.hex(), log_level::warn,
                  "dropped frames claiming to be " + p->name + " (" + p->id.short_hex() +
                      ") from a connection that is not its link");
        return nullptr;
    }
    apply(table_.on_traffic(*p, now));   // any traffic is a sign of life
    return p;
}

void reactor::on_control(const std::optional<protocol::sender_route>& sender, protocol::control& msg,
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
    const node_id id = p->id;
    if (const auto* ping = std::get_if<protocol::ping>(&msg)) {
        send_to(id, protocol::pong{ping->token});
    } else if (const auto* pong = std::get_if<protocol::pong>(&msg)) {
        const auto sent = pong->token, received = now_us(now);
        if (sent <= received) p->rtt_us = static_cast<std::int64_t>(received - sent);
    } else if (const auto* list = std::get_if<protocol::peers>(&msg)) {
        for (const auto& e : list->list)
            if (e.id != id_ && !table_.find(e.id))
                dial(e.id, e.name, e.pub_endpoint, e.router_endpoint, now, true);
    } else if (auto* s = std::get_if<protocol::subs>(&msg)) {
        on_subs(*p, std::move(*s));
    } else if (std::holds_alternative<protocol::stats_query>(msg)) {
        on_stats_query(id);
    } else if (auto* st = std::get_if<protocol::stats>(&msg)) {
        p->reported = std::move(st->counters);
    }
}

void reactor::on_hello(const protocol::hello& h, clock::time_point now) {
    if (h.id == id_) return;   // a seed that is ourselves
    if (h.mesh != opts_.mesh) {
        ++stats_.hellos_foreign_mesh;
        log(log_level::debug, "ignored HELLO from " + h.name + " of mesh '" + h.mesh + "'");
        return;
    }
    const bool want_reply = (h.flags & protocol::hello_flag_want_reply) != 0;
    auto* p = table_.find(h.id);
    if (!p) {
        // A newcomer quoting the token we sent another peer's ROUTER got our HELLO there: it
        // listens at those endpoints now, so that peer's process is gone (restarted on its
        // ports). Nothing else lets a newcomer take a live member's endpoints (see dial).
        if (auto* there = table_.given(h.echo)) {
            log(log_level::info, h.name + " (" + h.id.short_hex() + ") answered at the endpoints of " +
                                     there->name + " (" + there->id.short_hex() + "): replaced");
            drop_peer(there->id, leave_reason::replaced);
        }
        // It found us first (beacon, seed or peer list): dial back, our HELLO answering its.
        if (!dial(h.id, h.name, h.pub_endpoint, h.router_endpoint, now, false, h.token)) return;
        if (!(p = table_.find(h.id))) return;
    } else if (discovery::trust_hello(*p, h) == discovery::hello_trust::unverified) {
        // Not the node we dialled, or that node after dropping us and dialling us again
        // (a new token): nothing is taken from it. The node we dialled is asked, through
        // our link, to prove itself by quoting our token; its answer is authentic, a
        // stranger never sees the question. Asked once a heartbeat at most.
        ++stats_.hellos_unverified;
        if (now - p->last_challenge >= opts_.liveness.heartbeat) {
            p->last_challenge = now;
            send_to(h.id, hello_message(p, true, h.token));
        }
        return;
    } else if (want_reply) {
        send_to(h.id, hello_message(p, false, h.token));
    }
    subscriber_.peer_named(h.id, h.name);
    auto change = table_.on_hello(*p, h, now);
    const bool joined = change && change->kind == discovery::change_kind::joined;
    apply(std::move(change));
    if (joined && !opts_.observer) send_peer_list(h.id);
}

void reactor::send_peer_list(const node_id& to) {
    protocol::peers list;
    for (const auto& [id, p] : table_.all()) {
        if (id == to || p.observer || p.state == peer_state::connecting) continue;
        list.list.push_back({id, p.name, p.advertised_pub, p.advertised_router});
        if (list.list.size() == protocol::max_peers_per_list) {
            send_to(to, list);
            list.list.clear();
        }
    }
    if (!list.list.empty()) send_to(to, list);
}

void reactor::send_heartbeats(clock::time_point now) {
    for (auto& [id, p] : table_.all()) {
        const auto l = links_.find(id);
        if (l == links_.end()) continue;
        if (p.state == peer_state::connecting) {
            // Handshake retry: cheap, and it heals a peer that dropped our first HELLO.
            send_control(l->second, hello_message(&p, true));
        } else if (l->second.used || p.rtt_us < 0) {
            // Liveness is libzmq's heartbeat (see set_heartbeats); this PING measures the
            // round trip, and only of a link in use: on an idle one, each message we queue
            // is memory (see the dialler's set-up in reactor_setup.cpp).
            send_control(l->second, protocol::ping{now_us(now)});
            l->second.used = false;
            ++stats_.pings_sent;
        }
    }
}

void reactor::contact_seeds() {
    // Seeds are asked again and again: a restarted seed, or one across a healed partition,
    // learns of us from the next probe.
    const auto frame = encoded(hello_message(nullptr, true));
    if (!frame) return;
    for (auto& probe : seed_probes_)
        if (!probe.send(zmq::buffer(*frame), zmq::send_flags::dontwait)) ++stats_.sends_dropped;
}

void reactor::on_leave(const std::optional<node_id>& id, std::uint64_t token) {
    const auto* p = id ? table_.find(*id) : nullptr;
    if (!p) {
        ++stats_.frames_unknown_sender;
        return;
    }
    // Only the node we dialled holds our token: anyone can send a LEAVE naming any id.
    if (!discovery::leave_authentic(*p, token)) {
        ++stats_.leaves_unverified;
        ctx_.warn_once("leave " + p->id.hex(), log_level::warn,
                  "ignored a LEAVE for " + p->name + " (" + p->id.short_hex() +
                      ") that does not quote the token we gave it: forged, or from an older node");
        return;
    }
    // From a peer in any state: one still in handshake with us is gone as well (it sends
    // LEAVE to every peer it dialled), and dropping it stops us dialling it.
    drop_peer(*id, leave_reason::leave);
}

void reactor::drop_peer(node_id id, leave_reason why) {
    const auto* p = table_.find(id);
    if (!p) return;
    const std::string pub_endpoint = p->pub_endpoint;
    auto change = table_.remove(id, why);
    close_links(id, pub_endpoint);
    if (change) emit(*change);
}

void reactor::close_links(node_id id, std::string pub_endpoint) {
    close_link(id);
    subscriber_.peer_gone(id, pub_endpoint);
}

void reactor::apply(std::optional<discovery::peer_change> change) {
    if (!change) return;
    if (change->kind == discovery::change_kind::left)
        close_links(change->snapshot.id, change->snapshot.pub_endpoint);
    emit(*change);
}

void reactor::apply(std::vector<discovery::peer_change> changes) {
    for (auto& c : changes) apply(std::optional(std::move(c)));
}

void reactor::leave_all() {
    // Peers still in handshake too: our HELLO may have made one count us as joined before
    // its answer reached us, and without LEAVE it would learn of the stop only by timeout.
    for (auto& [id, l] : links_) {
        const auto* p = table_.find(id);
        send_control(l, protocol::leave{p ? p->their_token : 0});
    }
    // Give LEAVE time to reach every peer; closing the context below waits for it.
    dialer_.set(zmq::sockopt::linger, 500);
    for (auto* s : {&dialer_, &pub_, &router_}) zmq_socket_monitor(s->handle(), nullptr, 0);
    // Events still queued for subscribers get the same time as LEAVE to go out.
    pub_.set(zmq::sockopt::linger, 1000);
    call_links_.close_all();
    links_.clear();   // and their call links
    dialer_monitor_.close();
    dialer_.close();
    seed_probes_.clear();
    pub_monitor_.close();
    router_monitor_.close();
    subscriber_.close();
    router_.close();
    pub_.close();
    security_.close();   // the context cannot close while any socket of it is open
    net_ctx_.close();
}

}  // namespace zmesh::detail
