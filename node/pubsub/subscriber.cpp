// SPDX-License-Identifier: MPL-2.0
// subscriber: reading the SUB, per (sender, topic) gap counting, subscriptions and the SUB's
// connections. Every byte read from the SUB comes from the network: decode errors are
// counted, never thrown.
#include "subscriber.hpp"

#include "node/pipe.hpp"
#include "node/socket_monitor.hpp"
#include "protocol/msgpack_io.hpp"

#include <algorithm>

namespace zmesh::detail {

subscriber::subscriber(node_context& ctx, shared_counters& counters, outbox& out, const discovery::peer_table& table,
                       security& sec, peer_port& host, zmq::context_t& net, socket_use sub_used)
    : ctx_(ctx),
      counters_(counters),
      out_(out),
      table_(table),
      security_(sec),
      host_(host),
      sub_(net, zmq::socket_type::sub),
      sub_used_(sub_used) {
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::rcvhwm, ctx_.opts.receive_hwm);
    // A frame far over what could be a valid event is refused by libzmq before it is
    // allocated: it drops that connection (sub_disconnects) and reconnects. Events between
    // max_event_size and this are read, dropped and counted as events_oversized.
    sub_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(protocol::max_event_header_size + ctx_.opts.max_event_size));
    // The SUB's monitor tells when a PUB has our filters (handshake: SUBS may follow) and
    // when libzmq ended an event connection (to dial it again).
    monitor_ = watch(net, sub_, "SUB", dial_events | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
}

bool subscriber::receiving() const {
    return counters_.pending_events.load(std::memory_order_acquire) < static_cast<std::int64_t>(ctx_.opts.receive_queue);
}

bool subscriber::wants(std::string_view topic) const { return subscriptions_.wants(topic); }

bool subscriber::on_readable(clock::time_point now) {
    zmq::message_t frame, extra;
    // Nothing in this loop erases senders_ (reactor handlers post what they ask for), so the
    // run's entry pointer stays good.
    sender_run run;
    bool drained = false;
    for (int i = 0; i < max_batch && receiving(); ++i) {
        if (!sub_.recv(frame, zmq::recv_flags::dontwait)) {
            drained = true;
            break;
        }
        if (frame.more()) {   // one frame, nothing more
            while (sub_.get(zmq::sockopt::rcvmore)) (void)sub_.recv(extra);
            ++ctx_.stats.events_invalid;
            continue;
        }
        accept(frame, now, run);
    }
    out_.flush();
    if (!receiving()) ++ctx_.stats.receive_paused;
    return drained;
}

void subscriber::accept(zmq::message_t& frame, clock::time_point now, sender_run& run) {
    auto& stats = ctx_.stats;
    const auto e = protocol::decode_event_frame(bytes_of(frame));
    if (!e) {
        ++(e.error() != protocol::errc::bad_version ? stats.events_invalid : stats.frames_bad_version);
        return;
    }
    const auto& h = e->header;
    if (!run.entry || run.id != h.sender) {
        auto* s = senders_.find(h.sender);
        if (!s) {
            ++stats.events_unknown_sender;
            return;
        }
        run = {h.sender, s, false};
    }
    if (e->payload.size() > ctx_.opts.max_event_size) {
        ++stats.events_oversized;
        return;
    }
    auto& s = *run.entry;
    if (!s.joined) {   // in handshake still: checked once it has joined
        if (!senders_.hold(s, std::move(frame))) ++stats.events_early_dropped;
        return;
    }
    if (protocol::check_msgpack(e->payload)) {
        ++stats.events_invalid;
        return;
    }
    stats.events_gaps += senders_.take(s, e->topic, h.seq);
    ++stats.events_in;
    if (!run.alive_noted) {
        // Any traffic is a sign of life: a peer busy publishing is never suspected. Once
        // per run is enough: `now` is the same for the whole round. A departed peer's events
        // still coming keep its connection draining.
        run.alive_noted = true;
        if (table_.find(h.sender))
            host_.peer_alive(h.sender, now);
        else
            for (auto& d : pending_disconnects_)
                if (d.id == h.sender) d.at = std::max(d.at, now + leave_drain);
    }
    std::string topic(e->topic);
    // Handlers on the reactor are lent the payload inside the frame, which outlives them (a
    // copy of the event takes its own bytes); handler threads share the frame itself.
    if (subscriptions_.any_on_reactor() && !subscriptions_.wants_on_threads(topic)) {
        run_reactor_handlers(event(std::move(topic), h.sender, s.name, h.seq, h.sent_us, e->payload, nullptr));
        return;
    }
    // A small payload is copied into a shared block (node/part_blocks.hpp); a larger one
    // keeps its frame.
    std::shared_ptr<const void> shared;
    std::span<const std::uint8_t> view;
    if (e->payload.size() <= part_blocks::max_part) {
        std::tie(shared, view) = payload_blocks_.copy(e->payload);
    } else {
        auto part = share_part(frame, e->payload);
        shared = std::move(part.frame);
        view = part.bytes;
    }
    auto& events = out_.events();
    events.emplace_back(std::move(topic), h.sender, s.name, h.seq, h.sent_us, view, std::move(shared));
    if (subscriptions_.any_on_reactor()) run_reactor_handlers(events.back());
}

void subscriber::run_reactor_handlers(const event& e) {
    subscriptions_.for_reactor_handlers(e.topic(), [&](const event_handler& h) {
        counters_.run_guarded("an event handler", [&] { h(e); });
    });
}

void subscriber::deliver_local(std::string_view topic, const protocol::event_header& h,
                               std::span<const std::uint8_t> payload) {
    if (!wants(topic)) return;
    const bool to_threads = subscriptions_.wants_on_threads(topic);
    if (to_threads && !receiving()) {
        ++ctx_.stats.local_dropped;
        if (!subscriptions_.any_on_reactor()) return;
    }
    auto copy = std::make_shared<std::vector<std::uint8_t>>(payload.begin(), payload.end());
    const std::span<const std::uint8_t> view(*copy);
    event e(std::string(topic), ctx_.id, ctx_.opts.name, h.seq, h.sent_us, view, std::move(copy));
    run_reactor_handlers(e);
    if (to_threads && receiving()) out_.events().push_back(std::move(e));
    ++ctx_.stats.events_local;
}

void subscriber::subscribe(subscribe_command& c) {
    const bool reactor = c.where == run_on::reactor;
    if (subscriptions_.add(c.id, c.prefix, c.where, reactor ? std::move(c.handler) : event_handler{})) {
        sub_used_();
        sub_.set(zmq::sockopt::subscribe, c.prefix);
        send_subs_to_all();
        connect_to_all();   // the first subscription: now events are wanted
    }
    // Events already read keep going to the handlers of their time.
    if (!reactor) out_.send(subscription_added{c.id, std::move(c.prefix), std::move(c.handler)});
}

void subscriber::unsubscribe(unsubscribe_command& c) {
    const auto r = subscriptions_.remove(c.id);
    if (!r) return;
    if (r->last_of_prefix) {
        sub_used_();
        sub_.set(zmq::sockopt::unsubscribe, r->prefix);
        send_subs_to_all();
        // What is published on those topics from now on is not wanted, not missed: the
        // first event after a new subscription sets a new baseline, it is no gap.
        const auto unwanted = [&](std::string_view topic) { return topic.starts_with(r->prefix) && !wants(topic); };
        senders_.forget_topics(unwanted);
    }
    if (r->where != run_on::reactor) out_.send(subscription_removed{c.id});
}

void subscriber::send_subs(const protocol::node_id& to) {
    if (ctx_.opts.observer) return;
    protocol::subs s;
    s.prefixes = subscriptions_.prefixes();
    host_.send_to_peer(to, s);
}

void subscriber::send_subs_to_all() {
    // Only to peers whose PUB our SUB reached: the filters travel on that connection first.
    for (const auto& [id, p] : table_.all())
        if (p.state != peer_state::connecting && ready_.count(p.pub_endpoint)) send_subs(id);
}

void subscriber::connect(const protocol::node_id& id, const std::string& pub_endpoint) {
    if (links_.count(pub_endpoint)) return;
    try {
        if (!security_.secure_client(sub_, id)) return;
        sub_used_();
        sub_.connect(pub_endpoint);
        links_.insert(pub_endpoint);
    } catch (const zmq::error_t& e) {
        ctx_.log(log_level::warn, "cannot connect to the events of " + id.short_hex() + " at " + pub_endpoint + ": " +
                                      e.what());
    }
}

void subscriber::connect_to_all() {
    // Joined peers were told we want nothing; the SUBS that follows each handshake corrects
    // that, once our filters are at their PUB.
    // Members known by gossip alone are connected as the mesh links them.
    for (const auto& [id, p] : table_.all())
        if (p.linked) connect(id, p.pub_endpoint);
}

void subscriber::disconnect(const std::string& pub_endpoint) {
    if (!links_.erase(pub_endpoint)) return;
    sub_used_();
    try {
        sub_.disconnect(pub_endpoint);
    } catch (const zmq::error_t&) {
        // ENOENT: already gone. Nothing else can fail for an endpoint we connected.
    }
}

void subscriber::peer_dialled(const protocol::node_id& id, const std::string& name, const std::string& pub_endpoint) {
    senders_.dialled(id, name);   // its events held until its HELLO
    // Still connected from a peer that just left (draining)? Keep that connection: a second
    // one to the same endpoint would deliver every event twice.
    const auto draining = std::find_if(pending_disconnects_.begin(), pending_disconnects_.end(),
                                       [&](const pending_disconnect& d) { return d.pub_endpoint == pub_endpoint; });
    if (draining != pending_disconnects_.end()) {
        pending_disconnects_.erase(draining);
        // Still connected: no new handshake event will come, so SUBS goes on join.
        if (links_.count(pub_endpoint)) ready_.insert(pub_endpoint);
    }
    if (wants_events()) connect(id, pub_endpoint);
}

bool subscriber::wants_events_from(const discovery::peer& p) const {
    if (!wants_events()) return false;
    if (!p.publishes) return true;
    return std::any_of(p.publishes->begin(), p.publishes->end(),
                       [&](const std::string& prefix) { return subscriptions_.meets(prefix); });
}

void subscriber::member_linked(const discovery::peer& p) {
    senders_.dialled(p.id, p.name);
    (void)senders_.joined(p.id);   // it joined already: nothing of its was held
    if (wants_events()) connect(p.id, p.pub_endpoint);
}

void subscriber::peer_named(const protocol::node_id& id, const std::string& name) { senders_.named(id, name); }

void subscriber::peer_joined(const discovery::peer& p, clock::time_point now) {
    sender_run run;
    for (auto& frame : senders_.joined(p.id)) accept(frame, now, run);
    out_.flush();
    // With no SUB connection to it we want nothing: that needs no filter to travel first.
    if (ready_.count(p.pub_endpoint) || (!links_.count(p.pub_endpoint) && !wants_events())) send_subs(p.id);
}

void subscriber::peer_gone(const protocol::node_id& id, const std::string& pub_endpoint) {
    ctx_.stats.events_early_dropped += senders_.drop_early(id);   // never joined: nobody knew it
    // Events the peer sent before its LEAVE may still be on the way (LEAVE travels on another
    // connection) or queued unread: keep the SUB connected and the sender known until none
    // has come for leave_drain.
    pending_disconnects_.push_back({pub_endpoint, id, clock::now() + leave_drain});
    ready_.erase(pub_endpoint);
}

void subscriber::peer_revoked(const protocol::node_id& id, const std::string& pub_endpoint) {
    std::erase_if(pending_disconnects_, [&](const pending_disconnect& d) { return d.id == id; });
    senders_.erase(id);   // what is still queued from it is dropped as an unknown sender's
    ready_.erase(pub_endpoint);
    dropped_.erase(pub_endpoint);
    disconnect(pub_endpoint);
}

void subscriber::peer_subscribes(discovery::peer& p, protocol::subs&& s) {
    p.subscriptions = std::move(s.prefixes);
    p.subscriptions_known = true;
}

void subscriber::on_handshake(const std::string& pub_endpoint) {
    ready_.insert(pub_endpoint);
    if (const auto* p = table_.find_by_pub_endpoint(pub_endpoint); p && p->state != peer_state::connecting)
        send_subs(p->id);
}

void subscriber::on_monitor(clock::time_point now) {
    monitor_event e;
    for (int i = 0; i < max_batch && read_monitor_event(monitor_, e); ++i) {
        if (note_handshake_failure(ctx_, e, security_.secured())) continue;
        if (e.kind == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            on_handshake(e.endpoint);
        } else if (e.kind == ZMQ_EVENT_DISCONNECTED) {
            ready_.erase(e.endpoint);
            if (!table_.find_by_pub_endpoint(e.endpoint)) continue;
            ++ctx_.stats.sub_disconnects;
            dropped_[e.endpoint] = now;
        } else {   // connected again, or libzmq retries by itself
            dropped_.erase(e.endpoint);
        }
    }
}

void subscriber::on_timers(clock::time_point now) {
    run_pending_disconnects(now);
    revive(now);
}

void subscriber::run_pending_disconnects(clock::time_point now) {
    // Unread events may be from a departed peer: wait until the handlers catch up.
    if (!receiving()) return;
    std::erase_if(pending_disconnects_, [&](const pending_disconnect& d) {
        if (now < d.at) return false;
        if (!table_.find(d.id)) senders_.erase(d.id);
        disconnect(d.pub_endpoint);
        return true;
    });
}

void subscriber::revive(clock::time_point now) {
    for (auto it = dropped_.begin(); it != dropped_.end();) {
        if (now - it->second < revive_after) {
            ++it;
            continue;
        }
        const std::string endpoint = it->first;
        it = dropped_.erase(it);
        const auto* p = table_.find_by_pub_endpoint(endpoint);
        if (!p || !links_.count(endpoint)) continue;   // gone meanwhile: nothing to revive
        ++ctx_.stats.sub_revived;
        ctx_.warn_once("revive " + p->id.hex(), log_level::warn,
                       "libzmq closed the event connection from " + p->name +
                           " (a frame over max_event_size?): connecting again");
        sub_used_();
        try {
            // libzmq still lists the dead endpoint, and a SUB ignores a second connect to a
            // listed one: forget it first.
            sub_.disconnect(endpoint);
        } catch (const zmq::error_t&) {
        }
        try {
            if (security_.secure_client(sub_, p->id)) sub_.connect(endpoint);
        } catch (const zmq::error_t& e) {
            ctx_.log(log_level::warn, "cannot reconnect to " + endpoint + ": " + e.what());
        }
    }
}

void subscriber::close() {
    zmq_socket_monitor(sub_.handle(), nullptr, 0);
    monitor_.close();
    sub_.close();
}

}  // namespace zmesh::detail
