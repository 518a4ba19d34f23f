// SPDX-License-Identifier: MPL-2.0
// reactor: the poll loop, commands from the pipe, timers and deliveries (sockets are set up
// in reactor_setup.cpp).
#include "reactor.hpp"

#include "pipe.hpp"

#include <algorithm>
#include <cerrno>
#include <functional>
#include <stdexcept>
#include <system_error>

namespace zmesh::detail {

namespace {
thread_local reactor* this_thread_reactor = nullptr;
}

reactor* reactor::of_this_thread() noexcept { return this_thread_reactor; }

void reactor::run() noexcept {
    this_thread_reactor = this;
    try {
        run_posted();   // setup.first
        loop();
    } catch (const std::exception& e) {
        // Only setup-time bugs or ETERM get here: network input never throws.
        log(log_level::error, std::string("reactor stopped: ") + e.what());
    }
    stopping_ = true;   // also after a throw: reactor code calling now is refused, not sent
    try {
        // Nothing pending may hang: every open call fails now.
        client_.fail_all(rpc_error(rpc_errc::stopped, "node stopped"));
        server_.stop();
        leave_all();
        // Commands that raced with stop: queries see a broken promise, calls fail as stopped;
        // nobody hangs. (Publishes, not one pointer long, are dropped with the rest.)
        zmq::message_t msg;
        while (commands_.recv(msg, zmq::recv_flags::dontwait))
            if (const auto cmd = owned_from<command>(msg)) refuse_after_stop(*cmd);
        for (auto& item : posted_)
            if (auto* c = std::get_if<command>(&item)) refuse_after_stop(*c);
        posted_.clear();
        outbox_.flush();
        outbox_.send(end_of_deliveries{});
    } catch (...) {
    }
    this_thread_reactor = nullptr;
}

void reactor::refuse_after_stop(command& cmd) {
    if (auto* c = std::get_if<call_command>(&cmd)) refuse_after_stop(*c);
}

void reactor::refuse_after_stop(call_command& c) {
    const rpc_error stopped(rpc_errc::stopped, "node stopped");
    if (auto* p = std::get_if<std::promise<reply>>(&c.done))
        p->set_exception(std::make_exception_ptr(stopped));
    else   // on the delivery thread even for run_on::reactor: this thread is done with code
        outbox_.send(call_completed{std::move(std::get<call_callback>(c.done)), call_result(stopped)});
}

void reactor::run_posted() {
    client_.complete_failed();
    if (posted_.empty()) return;
    // Only what is here now: code these run may post more, for the next round.
    round_unix_us_ = 0;
    round_now_ = {};
    std::swap(posted_, running_);
    auto it = running_.begin();
    for (; it != running_.end() && !stopping_; ++it) {
        if (auto* frame = std::get_if<zmq::message_t>(&*it))
            on_publish(*frame);
        else
            std::visit([this](auto& c) { handle(c); }, std::get<command>(*it));
    }
    // Stopped midway: what is left is refused with the rest (see run()), in order.
    posted_.insert(posted_.begin(), std::make_move_iterator(it), std::make_move_iterator(running_.end()));
    running_.clear();
}

unsigned reactor::readable_now(unsigned sockets) {
    unsigned out = 0;
    for (const auto& [bit, socket] : polled_sockets())
        if ((sockets & bit) && socket->handle() &&
            (socket->get(zmq::sockopt::events) & ZMQ_POLLIN))
            out |= bit;
    return out;
}

void reactor::loop() {
    const auto now0 = clock::now();
    // At once, not after a period.
    next_beacon_ = next_heartbeat_ = next_liveness_ = next_seed_ = next_stats_poll_ = now0;
    // Waited on as plain descriptors (see dirty_), then the beacon's and the RPC workers'
    // answers'; the ZAP socket exists only when secured.
    const auto sockets = polled_sockets();
    constexpr std::uint64_t beacon_tag = std::tuple_size_v<decltype(sockets)>;
    constexpr std::uint64_t answers_tag = beacon_tag + 1;
    for (std::uint64_t i = 0; i < beacon_tag; ++i)
        if (sockets[i].second->handle()) waits_.add(sockets[i].second->get(zmq::sockopt::fd), i);
    if (beacon_) waits_.add(beacon_->fd(), beacon_tag);
    waits_.add(server_.answers_fd(), answers_tag);
    std::array<std::uint64_t, 32> signalled;
    unsigned ready = 0;   // sockets known to hold messages, until their handler runs
    while (!stopping_) {
        ready |= readable_now(dirty_);
        dirty_ = 0;
        const bool calls_ready = call_links_.readable() || client_.has_failed();
        // While handlers are behind, the SUB is left unread (its peers drop, never block) and
        // the loop wakes every millisecond to see whether they caught up.
        const bool reading = subscriber_.receiving();
        auto now = clock::now();
        const auto next = std::min({next_beacon_, next_heartbeat_, next_liveness_, next_seed_,
                                    next_stats_poll_, client_.next_deadline()});
        auto wait = std::max<std::int64_t>(
            0, std::chrono::duration_cast<milliseconds>(next - now).count() + 1);
        if (!reading) wait = std::min<std::int64_t>(wait, 1);
        if (!posted_.empty() || calls_ready || (ready & (reading ? polled_all : polled_all & ~polled_sub)))
            wait = 0;
        // A signalled socket is read, not asked first: its handler's first receive processes
        // the commands behind the signal as a ZMQ_EVENTS check would, and a false alarm
        // costs one EAGAIN, what the check costs every time.
        bool beacon_ready = false, answers_ready = false;
        for (const auto tag : waits_.wait(signalled, static_cast<int>(wait))) {
            if (tag < beacon_tag)
                ready |= sockets[tag].first;
            else if (tag == beacon_tag)
                beacon_ready = true;
            else if (tag == answers_tag)
                answers_ready = true;
            else
                call_links_.signalled(static_cast<int>(tag - call_links::wait_tag));
        }
        now = round_now_ = clock::now();
        // Each handler below reads its socket until empty or a batch is full, and the socket
        // is checked again before the next wait, unless the handler returns true: it read
        // until libzmq said EAGAIN and did nothing else with the socket, so that read
        // processed the socket's commands and its descriptor will signal the next message
        // (a ZMQ_EVENTS check costs two syscalls, a good part of a round trip's). Handlers
        // that cannot tell are `unsure`.
        // A handler that ends on EAGAIN also settles sends made earlier in the round (its
        // last operation on the socket processed them): no ZMQ_EVENTS check for those.
        const auto run = [&](unsigned bit, auto&& handler) {
            if (!(ready & bit)) return;
            ready &= ~bit;
            if (handler())
                dirty_ &= ~bit;
            else
                touched(bit);
        };
        const auto unsure = [](auto&& handler) {
            return [handler] {
                handler();
                return false;
            };
        };
        run(polled_commands, unsure([&] { on_pipe(); }));
        if (stopping_) break;
        run(polled_router, [&] { return on_router(now); });
        run(polled_dialer, [&] { return on_dialer(now); });
        client_.read_call_links(now, [&] {
            run_posted();   // the last reply's callback's next call goes out first
            return !stopping_;
        });
        if (subscriber_.receiving()) run(polled_sub, [&] { return subscriber_.on_readable(now); });
        run(polled_sub_monitor, unsure([&] { subscriber_.on_monitor(now); }));
        run(polled_dialer_monitor, unsure([&] { on_dialer_monitor(now); }));
        if (answers_ready) server_.on_answers();
        run(polled_zap, unsure([&] { security_.on_zap(); }));
        // Connections first: a subscription's descriptor is then known to be open.
        run(polled_pub_monitor, unsure([&] { on_listener_monitor(pub_monitor_, listener::pub); }));
        run(polled_router_monitor, unsure([&] { on_listener_monitor(router_monitor_, listener::router); }));
        run(polled_pub, unsure([&] { on_pub(); }));
        if (beacon_ready) on_beacon(now);
        on_timers(clock::now());
        run_posted();
        outbox_.flush();   // call outcomes of this round, in one message
    }
}

void reactor::on_pipe() {
    zmq::message_t msg;
    round_unix_us_ = 0;
    round_now_ = {};
    for (int i = 0; i < max_batch && !stopping_; ++i) {
        if (!commands_.recv(msg, zmq::recv_flags::dontwait)) break;
        if (const auto cmd = owned_from<command>(msg))
            std::visit([this](auto& c) { handle(c); }, *cmd);
        else
            on_publish(msg);   // not one pointer: an event frame (node::send_event)
    }
    outbox_.flush();   // own events for own subscriptions
}

void reactor::handle(peers_query& q) {
    std::vector<peer_info> out;
    const auto now = clock::now();
    for (const auto& [id, p] : table_.all()) out.push_back(to_info(p, now));
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
    q.reply.set_value(std::move(out));
}

void reactor::handle(stats_query& q) { q.reply.set_value(current_stats()); }

node_stats reactor::current_stats() {
    stats_.handshake_timeouts = table_.handshake_timeouts();
    stats_.handler_errors = counters_->handler_errors.load(std::memory_order_relaxed);
    stats_.publish_dropped = counters_->publish_dropped.load(std::memory_order_relaxed);
    server_.count_workers();
    return stats_;
}

void reactor::handle(stop_command&) { stopping_ = true; }

void reactor::on_timers(clock::time_point now) {
    if (security_.reload(now)) drop_revoked();
    if (now >= next_liveness_) {
        std::vector<discovery::peer> dropped;
        apply(table_.tick(now, &dropped));
        for (const auto& p : dropped) close_links(p.id, p.pub_endpoint);
        next_liveness_ = now + std::min(opts_.liveness.heartbeat, milliseconds(100));
    }
    if (now >= next_heartbeat_) {
        send_heartbeats(now);
        next_heartbeat_ = now + opts_.liveness.heartbeat;
    }
    if (beacon_ && now >= next_beacon_) {
        send_beacon();
        next_beacon_ = now + opts_.beacon_interval;
    } else if (!beacon_) {
        next_beacon_ = now + std::chrono::hours(1);
    }
    subscriber_.on_timers(now);
    client_.expire(now);
    if (opts_.stats_poll.count() > 0 && now >= next_stats_poll_) {
        poll_peer_stats();
        next_stats_poll_ = now + opts_.stats_poll;
    } else if (opts_.stats_poll.count() == 0) {
        next_stats_poll_ = now + std::chrono::hours(1);
    }
    if (now >= next_seed_) {
        contact_seeds();
        // The first HELLOs often meet a probe still connecting (IMMEDIATE drops them): ask
        // again soon, then back off to the seed interval.
        next_seed_ = now + (seed_probes_.empty() ? milliseconds(3600 * 1000)
                                                 : std::min(seed_retry_, opts_.seed_interval));
        seed_retry_ = std::min(seed_retry_ * 2, opts_.seed_interval);
    }
}

void reactor::warn_if_name_shared(const discovery::peer& joined) {
    if (joined.observer) return;
    for (const auto& [id, p] : table_.all())
        if (id != joined.id && !p.observer && p.state != peer_state::connecting && p.name == joined.name)
            log(log_level::warn, "two members are named '" + joined.name + "': " + p.id.short_hex() +
                                     " at " + p.router_endpoint + " and " + joined.id.short_hex() + " at " +
                                     joined.router_endpoint + " (calls by that name are ambiguous)");
}


peer_info reactor::to_info(const discovery::peer& p, clock::time_point now) const {
    peer_info info;
    info.id = p.id;
    info.name = p.name;
    info.state = p.state;
    info.pub_endpoint = p.pub_endpoint;
    info.router_endpoint = p.router_endpoint;
    info.services = p.services;
    info.observer = p.observer;
    info.last_seen_ms = std::chrono::duration_cast<milliseconds>(now - p.last_seen).count();
    info.rtt_us = p.rtt_us;
    info.subscriptions = p.subscriptions;
    info.subscriptions_known = p.subscriptions_known;
    info.reported = p.reported;
    const auto seen = subscriber_.of(p.id);
    info.events_in = seen.events_in;
    info.gaps = seen.gaps;
    return info;
}

void reactor::emit(const discovery::peer_change& c) {
    peer_info info = to_info(c.snapshot, clock::now());
    if (c.kind == discovery::change_kind::joined) ++stats_.peers_joined;
    if (c.kind == discovery::change_kind::left) ++stats_.peers_left;
    log(c.kind == discovery::change_kind::joined || c.kind == discovery::change_kind::left
            ? log_level::info
            : log_level::warn,
        "peer " + info.name + " (" + info.id.short_hex() + ") " +
            std::string(to_string(c.kind)) +
            (c.reason != leave_reason::none ? " (" + std::string(to_string(c.reason)) + ")" : ""));
    outbox_.flush();   // events that came before this change are handled before it
    outbox_.send(peer_event{c.kind, c.reason, std::move(info)});
    if (c.kind == discovery::change_kind::joined) {
        warn_if_name_shared(c.snapshot);
        subscriber_.peer_joined(c.snapshot, clock::now());
    }
    if (c.kind == discovery::change_kind::left)
        client_.peer_left(c.snapshot.id, c.snapshot.name + " left (" + std::string(to_string(c.reason)) + ")");
}

}  // namespace zmesh::detail
