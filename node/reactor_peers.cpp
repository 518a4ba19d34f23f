// SPDX-License-Identifier: MPL-2.0
// reactor, discovery half: seeds, the HELLO handshake, heartbeats, the SUB monitor and LEAVE
// (beacons: reactor_beacons.cpp). Every byte read here comes from the network: decode errors are counted, never
// thrown, never asserted.
#include "reactor.hpp"

#include "pipe.hpp"
#include "protocol/endpoint.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>
#include <cstring>

#include <system_error>

namespace zmesh::detail {

namespace {


std::uint64_t now_us(clock::time_point t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

}  // namespace

void reactor::dial(const node_id& id, const std::string& name, const std::string& pub_endpoint,
                   const std::string& router_endpoint, clock::time_point now, bool want_reply) {
    // Two processes cannot listen on one host:port, so a new id there means the old process
    // is gone (restarted): retire it now rather than after its expiry.
    if (auto* old = table_.find_by_pub_endpoint(pub_endpoint); old && old->id != id)
        drop_peer(old->id, leave_reason::replaced);

    if (table_.all().size() >= opts_.max_peers) {
        ++stats_.peers_refused;
        warn_once("max peers", log_level::warn,
                  "peer table full (max_peers " + std::to_string(opts_.max_peers) + "): not dialling " +
                      name + " (" + id.short_hex() + ") nor any other newcomer until one leaves");
        return;
    }
    zmq::socket_t dealer(net_ctx_, zmq::socket_type::dealer);
    try {
        if (!secure_client(dealer, id)) return;
        dealer.set(zmq::sockopt::linger, 0);
        dealer.set(zmq::sockopt::sndhwm, opts_.peer_queue);   // thousands of calls in flight
        // Our id is our routing id at the peer's ROUTER: that is how it knows who sent a frame.
        dealer.set(zmq::sockopt::routing_id, zmq::buffer(id_.bytes()));
        dealer.connect(router_endpoint);
        // Still connected from a peer that just left (draining)? Keep that connection: a
        // second one to the same endpoint would deliver every event twice.
        const auto draining = std::find_if(
            pending_disconnects_.begin(), pending_disconnects_.end(),
            [&](const pending_disconnect& d) { return d.pub_endpoint == pub_endpoint; });
        if (draining != pending_disconnects_.end()) {
            pending_disconnects_.erase(draining);
            // Still connected: no new handshake event will come, so SUBS goes on join.
            sub_ready_.insert(pub_endpoint);
        }
        else if (secure_client(sub_, id)) {
            touched(polled_sub);
            sub_.connect(pub_endpoint);
        }
    } catch (const zmq::error_t& e) {
        log(log_level::warn, "cannot dial " + name + " at " + router_endpoint + ": " + e.what());
        return;
    }
    table_.add(id, name, pub_endpoint, router_endpoint, now);
    auto& sender = senders_[id];
    sender.name = name;
    sender.joined = false;   // until its HELLO: see sender::early
    send_hello(dealer, want_reply);
    dealers_.insert_or_assign(id, std::move(dealer));
    log(log_level::debug, "dialled " + name + " (" + id.short_hex() + ") at " + router_endpoint);
}

void reactor::send_hello(zmq::socket_t& dealer, bool want_reply) {
    protocol::hello h;
    h.mesh = opts_.mesh;
    h.id = id_;
    h.name = opts_.name;
    h.pub_endpoint = self_pub_;
    h.router_endpoint = self_router_;
    h.services = service_names();
    h.flags = static_cast<std::uint8_t>((opts_.observer ? protocol::hello_flag_observer : 0) |
                                        (want_reply ? protocol::hello_flag_want_reply : 0));
    send_control(dealer, h);
}

void reactor::send_to(const node_id& id, const protocol::control& msg) {
    if (const auto it = dealers_.find(id); it != dealers_.end()) send_control(it->second, msg);
}

void reactor::send_control(zmq::socket_t& dealer, const protocol::control& msg) {
    std::vector<std::uint8_t> frame;
    try {
        frame = protocol::encode_control(msg);
    } catch (const std::length_error& e) {
        // Our own fields are validated at start, so this is a bug: report it, keep running.
        ++stats_.sends_dropped;
        log(log_level::error, std::string("cannot encode control message: ") + e.what());
        return;
    }
    if (!dealer.send(zmq::buffer(frame), zmq::send_flags::dontwait)) ++stats_.sends_dropped;
}

bool reactor::on_router(clock::time_point now) {
    zmq::message_t routing_id, frame, extra;
    for (int i = 0; i < max_batch; ++i) {
        // What the last message's callback asked for (a pipelined caller's next call) goes
        // out before the next message is read, not at the end of the round: libzmq's I/O
        // thread sends it while this loop goes on (pipelined calls/s +10%).
        run_posted();
        if (stopping_) return false;
        if (!router_.recv(routing_id, zmq::recv_flags::dontwait)) return true;
        // Every message is one frame after the routing id: control or RPC, told by its type.
        int frames = 0;
        if (routing_id.more() && router_.recv(frame)) frames = 1;
        for (bool more = frames == 1 && frame.more(); more; more = extra.more()) {   // drain excess
            (void)router_.recv(extra);
            frames = 2;
        }
        if (frames != 1) {
            ++stats_.frames_invalid;
            continue;
        }
        const auto sender = node_id::from_bytes(bytes_of(routing_id));
        const auto head = protocol::peek_header(bytes_of(frame));
        if (head && (head->type == protocol::request_type || head->type == protocol::reply_type)) {
            if (!key_matches(sender, frame)) continue;
            if (auto* p = known_sender(routing_id, now)) on_rpc(*p, head->type, frame, now);
            continue;
        }
        auto msg = protocol::decode_control(bytes_of(frame));
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
        if (!key_matches(hello ? std::optional(hello->id) : sender, frame)) continue;
        on_control(routing_id, *msg, now);
    }
    return false;   // a full batch: more may be waiting
}

discovery::peer* reactor::known_sender(const zmq::message_t& routing_id, clock::time_point now) {
    const auto id = node_id::from_bytes(bytes_of(routing_id));
    auto* p = id ? table_.find(*id) : nullptr;
    if (!p || p->state == peer_state::connecting) {
        ++stats_.frames_unknown_sender;
        return nullptr;
    }
    apply(table_.on_traffic(*p, now));   // any traffic is a sign of life
    return p;
}

void reactor::on_control(const zmq::message_t& routing_id, protocol::control& msg,
                         clock::time_point now) {
    if (const auto* h = std::get_if<protocol::hello>(&msg)) {
        on_hello(*h, now);
        return;
    }
    if (std::holds_alternative<protocol::leave>(msg)) {
        on_leave(routing_id);
        return;
    }
    // Every other message must come from a peer we have completed a handshake with.
    auto* p = known_sender(routing_id, now);
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
    auto* p = table_.find(h.id);
    if (!p) {
        // It found us first (beacon, seed or peer list): dial back. It has our HELLO's
        // answer coming, so it need not answer ours.
        dial(h.id, h.name, h.pub_endpoint, h.router_endpoint, now, false);
        if (!(p = table_.find(h.id))) return;
    } else if (h.flags & protocol::hello_flag_want_reply) {
        if (auto it = dealers_.find(h.id); it != dealers_.end()) send_hello(it->second, false);
    }
    senders_[h.id].name = h.name;
    auto change = table_.on_hello(*p, h, now);
    const bool joined = change && change->kind == discovery::change_kind::joined;
    apply(std::move(change));
    if (joined) release_early_events(h.id, now);
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
        if (p.state == peer_state::connecting) {
            // Handshake retry: cheap, and it heals a peer that dropped our first HELLO.
            if (auto it = dealers_.find(id); it != dealers_.end()) send_hello(it->second, true);
        } else {
            send_to(id, protocol::ping{now_us(now)});
        }
    }
}

void reactor::contact_seeds() {
    // Seeds are asked again and again: a restarted seed, or one across a healed partition,
    // learns of us from the next probe.
    for (auto& probe : seed_probes_) send_hello(probe, true);
}

void reactor::on_monitor(clock::time_point now) {
    zmq::message_t event, address;
    for (int i = 0; i < max_batch; ++i) {
        if (!sub_monitor_.recv(event, zmq::recv_flags::dontwait)) return;
        if (!event.more() || !sub_monitor_.recv(address) || event.size() < 2) continue;
        std::uint16_t kind;
        std::memcpy(&kind, event.data(), sizeof kind);
        const std::string endpoint = address.to_string();
        if (kind == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            on_sub_handshake(endpoint);
            continue;
        }
        if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL || kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
            kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            warn_once("handshake " + endpoint, log_level::warn,
                      "security handshake with " + endpoint + " failed: " +
                          (kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                               ? "our key is not on its allowlist"
                               : "one side is secured and the other not, or keys differ"));
            continue;
        }
        if (kind == ZMQ_EVENT_DISCONNECTED) sub_ready_.erase(endpoint);
        auto* p = table_.find_by_pub_endpoint(endpoint);
        if (!p) continue;
        if (kind == ZMQ_EVENT_DISCONNECTED) {
            ++stats_.sub_disconnects;
            sub_dropped_[endpoint] = now;
            log(log_level::debug, "connection to " + p->name + " dropped");
            apply(table_.on_disconnect(*p, now));
        } else if (kind == ZMQ_EVENT_CONNECTED) {
            sub_dropped_.erase(endpoint);
            apply(table_.on_reconnect(*p, now));
        } else if (kind == ZMQ_EVENT_CONNECT_RETRIED) {
            sub_dropped_.erase(endpoint);
            apply(table_.on_reconnect_failed(*p));
        }
    }
}

void reactor::revive_subs(clock::time_point now) {
    for (auto it = sub_dropped_.begin(); it != sub_dropped_.end();) {
        if (now - it->second < sub_revive_after) {
            ++it;
            continue;
        }
        const std::string endpoint = it->first;
        it = sub_dropped_.erase(it);
        const auto* p = table_.find_by_pub_endpoint(endpoint);
        if (!p) continue;   // gone meanwhile: nothing to revive
        ++stats_.sub_revived;
        warn_once("revive " + p->id.hex(), log_level::warn,
                  "libzmq closed the event connection from " + p->name +
                      " (a frame over max_event_size?): connecting again");
        touched(polled_sub);
        try {
            // libzmq still lists the dead endpoint, and a SUB ignores a second connect to a
            // listed one: forget it first.
            sub_.disconnect(endpoint);
        } catch (const zmq::error_t&) {
        }
        try {
            if (secure_client(sub_, p->id)) sub_.connect(endpoint);
        } catch (const zmq::error_t& e) {
            log(log_level::warn, "cannot reconnect to " + endpoint + ": " + e.what());
        }
    }
}

void reactor::on_leave(const zmq::message_t& routing_id) {
    // From a peer in any state: one still in handshake with us is gone as well (it sends
    // LEAVE to every peer it dialled), and dropping it stops us dialling it.
    const auto id = node_id::from_bytes(bytes_of(routing_id));
    if (id && table_.find(*id)) drop_peer(*id, leave_reason::leave);
    else ++stats_.frames_unknown_sender;
}

void reactor::drop_peer(const node_id& id, leave_reason why) {
    const auto* p = table_.find(id);
    if (!p) return;
    const std::string pub_endpoint = p->pub_endpoint;
    auto change = table_.remove(id, why);
    close_links(id, pub_endpoint);
    if (change) emit(*change);
}

void reactor::close_links(const node_id& id, const std::string& pub_endpoint) {
    dealers_.erase(id);
    if (auto s = senders_.find(id); s != senders_.end())   // it never joined: nobody knew it
        stats_.events_early_dropped += s->second.take_early().size();
    forget_sender_later(id, pub_endpoint);
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
    for (auto& [id, dealer] : dealers_) send_control(dealer, protocol::leave{});
    // Give LEAVE time to reach every peer; closing the context below waits for it.
    for (auto& [id, dealer] : dealers_) dealer.set(zmq::sockopt::linger, 500);
    zmq_socket_monitor(sub_.handle(), nullptr, 0);
    // Events still queued for subscribers get the same time as LEAVE to go out.
    pub_.set(zmq::sockopt::linger, 1000);
    dealers_.clear();
    seed_probes_.clear();
    sub_monitor_.close();
    sub_.close();
    router_.close();
    pub_.close();
    zap_.close();   // the context cannot close while any socket of it is open
    net_ctx_.close();
}

}  // namespace zmesh::detail
