// SPDX-License-Identifier: MPL-2.0
// reactor: socket setup, the poll loop, commands from the pipe, timers and deliveries.
#include "reactor.hpp"

#include "keys.hpp"
#include "pipe.hpp"
#include "protocol/endpoint.hpp"
#include "protocol/rpc.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <stdexcept>
#include <system_error>

namespace zmesh::detail {

namespace {


std::uint16_t bound_port(zmq::socket_t& s) {
    const auto ep = protocol::parse_tcp_endpoint(s.get(zmq::sockopt::last_endpoint));
    return ep ? ep->port : 0;
}

// `sndhwm` is set before bind: a listener copies the socket's options when it binds, and
// the connections it accepts get that copy.
// `configure` runs before bind too, for the same reason (CURVE server options).
zmq::socket_t bind_socket(zmq::context_t& ctx, zmq::socket_type type, const std::string& host,
                          std::uint16_t port, const char* what, int sndhwm,
                          const std::function<void(zmq::socket_t&)>& configure) {
    zmq::socket_t s(ctx, type);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::sndhwm, sndhwm);
    configure(s);
    const std::string ep =
        "tcp://" + host + ":" + (port ? std::to_string(port) : std::string("*"));
    try {
        s.bind(ep);
    } catch (const zmq::error_t& e) {
        throw std::runtime_error(std::string("cannot bind ") + what + " to " + ep + ": " +
                                 e.what());
    }
    return s;
}

// Returns: a PAIR receiving `s`'s connection events (connected, dropped, retried, security
// handshake failed) and `extra`.
zmq::socket_t monitor(zmq::context_t& ctx, zmq::socket_t& s, const char* what, int extra) {
    const std::string endpoint = unique_inproc("monitor");
    if (zmq_socket_monitor(s.handle(), endpoint.c_str(),
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | extra) != 0)
        throw std::runtime_error(std::string("cannot monitor the ") + what + " socket");
    zmq::socket_t pair(ctx, zmq::socket_type::pair);
    pair.set(zmq::sockopt::linger, 0);
    pair.connect(endpoint);
    return pair;
}

// Makes libzmq heartbeat each connection of `s` every `l.heartbeat`, drop one after
// `l.evasive` without any traffic from the peer, and ask the peer to drop its end after
// `l.expired` without a heartbeat from us.
//
// Only on a socket whose receive queues never fill: libzmq 4.3 aborts (issue 3937) when a
// heartbeat ends a connection whose input it had stopped for a full queue and the
// reconnected one is then told the queue has room. Hence none on the SUB, which pauses
// reading while handlers are behind.
void set_heartbeats(zmq::socket_t& s, const discovery::liveness_config& l) {
    const auto ms = [](milliseconds d) {
        return static_cast<int>(std::clamp<std::int64_t>(d.count(), 1, 6'553'500));   // TTL's limit
    };
    s.set(zmq::sockopt::heartbeat_ivl, ms(l.heartbeat));
    s.set(zmq::sockopt::heartbeat_ttl, ms(l.expired));
    s.set(zmq::sockopt::heartbeat_timeout, ms(l.evasive));
}

}  // namespace

reactor::reactor(setup s)
    : opts_(std::move(s.opts)),
      id_(s.id),
      log_(opts_.name, opts_.log, opts_.log_to),
      net_ctx_(1),
      commands_(pipe_context(), zmq::socket_type::pull),
      deliveries_(pipe_context(), zmq::socket_type::pair),
      table_(opts_.liveness),
      counters_(std::move(s.counters)) {
    commands_.set(zmq::sockopt::linger, 0);
    commands_.bind(s.command_endpoint);
    deliveries_.set(zmq::sockopt::linger, -1);
    deliveries_.set(zmq::sockopt::sndhwm, 0);   // peer events are few; never drop them
    deliveries_.bind(s.delivery_endpoint);
    workers_ = zmq::socket_t(pipe_context(), zmq::socket_type::router);
    workers_.set(zmq::sockopt::linger, 1000);   // "quit" must reach every worker
    workers_.bind(s.workers_endpoint);
    for (auto& c : s.first) posted_.emplace_back(std::move(c));

    if (!opts_.secret_key.empty()) {
        // Before any secured socket exists: libzmq asks the ZAP handler about every
        // connection, and admits all when there is none.
        allow_.emplace(opts_.allowed_keys, opts_.allow_dir);
        secret_key_ = opts_.secret_key;
        public_key_ = public_key_of(secret_key_);
        zap_ = zmq::socket_t(net_ctx_, zmq::socket_type::rep);
        zap_.set(zmq::sockopt::linger, 0);
        zap_.bind("inproc://zeromq.zap.01");
    }
    const auto secure = [this](zmq::socket_t& s) { secure_server(s); };
    pub_ = bind_socket(net_ctx_, zmq::socket_type::pub, opts_.bind, opts_.pub_port, "PUB",
                       opts_.send_hwm, secure);
    router_ = bind_socket(net_ctx_, zmq::socket_type::router, opts_.bind, opts_.router_port,
                          "ROUTER", opts_.peer_queue, secure);
    // A peer that reconnects (same id) replaces its stale connection instead of being refused.
    router_.set(zmq::sockopt::router_handover, 1);
    // It sends only REPLYs, each back on its caller's link: one that cannot go is counted.
    router_.set(zmq::sockopt::router_mandatory, 1);
    // Past this a peer's connection is dropped by libzmq: memory stays bounded whatever it
    // sends. The largest valid frame: a control frame, or an RPC header and its body.
    router_.set(zmq::sockopt::maxmsgsize,
                static_cast<int64_t>(std::max(protocol::max_control_size,
                                              protocol::max_rpc_header_size + opts_.max_rpc_size)));

    sub_ = zmq::socket_t(net_ctx_, zmq::socket_type::sub);
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::rcvhwm, opts_.receive_hwm);
    // A frame far over what could be a valid event is refused by libzmq before it is
    // allocated: it drops that connection (sub_disconnects) and reconnects. Events between
    // max_event_size and this are read, dropped and counted as events_oversized.
    sub_.set(zmq::sockopt::maxmsgsize,
             static_cast<int64_t>(protocol::max_event_header_size + opts_.max_event_size));
    // The SUB's monitor tells when a PUB has our filters (handshake: SUBS may follow) and
    // when libzmq ended an event connection (to dial it again).
    sub_monitor_ = monitor(net_ctx_, sub_, "SUB", ZMQ_EVENT_HANDSHAKE_SUCCEEDED);

    // The dialler: see links_. Send-only; a message for a peer waits in its connection's
    // queue (up to peer_queue) until connected, as a DEALER's would.
    dialer_ = zmq::socket_t(net_ctx_, zmq::socket_type::router);
    dialer_.set(zmq::sockopt::linger, 0);
    dialer_.set(zmq::sockopt::sndhwm, opts_.peer_queue);   // thousands of calls in flight
    // Our id is our routing id at each peer's ROUTER: that is how it knows who sent a frame.
    dialer_.set(zmq::sockopt::routing_id, zmq::buffer(id_.bytes()));
    // A full queue or an ended connection is an error to the sender, not a silent drop.
    dialer_.set(zmq::sockopt::router_mandatory, 1);
    // libzmq heartbeats every link (ZMTP PING, answered inside the peer's libzmq) and drops
    // one silent for `evasive`: idle links carry no message of ours, so their queues stay
    // small (an application PING every heartbeat cycled a 16 KiB block of libzmq's queue on
    // each link, 1.7 MiB a node in a mesh of 32). The TTL lets the peer drop our end of a
    // link we stopped heartbeating (a process frozen or a network gone).
    set_heartbeats(dialer_, opts_.liveness);
    // What comes back on a link is a peer's REPLY to our REQUEST, one per call. The reactor
    // reads them at once; no limit on how many wait, so that libzmq never stops reading a
    // link (see set_heartbeats). Each is at most a REPLY's size.
    dialer_.set(zmq::sockopt::rcvhwm, 0);
    dialer_.set(zmq::sockopt::maxmsgsize,
                static_cast<int64_t>(protocol::max_rpc_header_size + opts_.max_rpc_size));
    // Its monitor sees every peer's link drop (kernel FIN/RST, or heartbeats unanswered) and
    // come back (a finished handshake), with the endpoint dialled.
    dialer_monitor_ = monitor(net_ctx_, dialer_, "dialler", ZMQ_EVENT_HANDSHAKE_SUCCEEDED);

    open_beacon();
    const auto pub_port = std::to_string(bound_port(pub_));
    const auto router_port = std::to_string(bound_port(router_));
    self_pub_ = "tcp://" + hello_host_ + ":" + pub_port;
    self_router_ = "tcp://" + hello_host_ + ":" + router_port;

    for (const auto& s : opts_.seeds) {
        const auto seed = split_seed(s);
        zmq::socket_t probe(net_ctx_, zmq::socket_type::dealer);
        probe.set(zmq::sockopt::linger, 0);
        if (!seed.key.empty()) {
            // The probe proves the seed holds that key; the seed checks ours (ZAP) and that
            // the HELLO names our own id. Its routing id is libzmq's: the link we open on
            // hearing back takes our id there.
            probe.set(zmq::sockopt::curve_serverkey, seed.key);
            probe.set(zmq::sockopt::curve_publickey, public_key_);
            probe.set(zmq::sockopt::curve_secretkey, secret_key_);
            if (!allow_->allows(*decode_key(seed.key)))
                log(log_level::warn, "seed " + seed.endpoint +
                                         ": its key is not on the allowlist, so its answer will be refused");
        }
        // Without a connection a probe HELLO is dropped, not queued: a seed that comes back
        // later gets one fresh HELLO, not a backlog.
        probe.set(zmq::sockopt::immediate, 1);
        probe.set(zmq::sockopt::sndhwm, 4);
        probe.connect(seed.endpoint);
        seed_probes_.push_back(std::move(probe));
    }
    log(log_level::info, "node " + id_.short_hex() + " on mesh '" + opts_.mesh + "': pub " +
                             self_pub_ + ", router " + self_router_);
}

reactor::~reactor() = default;

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
        std::vector<std::uint64_t> ids;
        calls_.for_each([&](std::uint64_t id, const auto&) { ids.push_back(id); });
        for (const auto id : ids) complete_call(id, rpc_error(rpc_errc::stopped, "node stopped"));
        stop_workers();
        leave_all();
        // Commands that raced with stop: queries see a broken promise, calls fail as stopped;
        // nobody hangs. (Publishes, not one pointer long, are dropped with the rest.)
        zmq::message_t msg;
        while (commands_.recv(msg, zmq::recv_flags::dontwait))
            if (const auto cmd = owned_from<command>(msg)) refuse_after_stop(*cmd);
        for (auto& item : posted_)
            if (auto* c = std::get_if<command>(&item)) refuse_after_stop(*c);
        posted_.clear();
        flush_deliveries();
        deliver(std::make_unique<delivery>(end_of_deliveries{}));
    } catch (...) {
    }
    this_thread_reactor = nullptr;
}

void reactor::refuse_after_stop(command& cmd) {
    auto* c = std::get_if<call_command>(&cmd);
    if (!c) return;
    const rpc_error stopped(rpc_errc::stopped, "node stopped");
    if (auto* p = std::get_if<std::promise<reply>>(&c->done))
        p->set_exception(std::make_exception_ptr(stopped));
    else   // on the delivery thread even for run_on::reactor: this thread is done with code
        deliver(std::make_unique<delivery>(
            call_completed{std::move(std::get<call_callback>(c->done)), call_result(stopped)}));
}

void reactor::run_posted() {
    if (posted_.empty()) return;
    // Only what is here now: code these run may post more, for the next round.
    round_unix_us_ = 0;
    std::swap(posted_, running_);
    auto it = running_.begin();
    for (; it != running_.end() && !stopping_; ++it) {
        if (auto* frame = std::get_if<zmq::message_t>(&*it))
            on_publish(*frame);
        else if (auto* failed = std::get_if<failed_call>(&*it))
            complete_call(failed->id, std::move(failed->why));
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
    // Waited on as plain descriptors (see dirty_), then the beacon's; the ZAP socket exists
    // only when secured.
    const auto sockets = polled_sockets();
    constexpr std::size_t beacon_item = std::tuple_size_v<decltype(sockets)>;
    std::array<int, beacon_item + 1> fds{};
    for (std::size_t i = 0; i < beacon_item; ++i)
        fds[i] = sockets[i].second->handle() ? sockets[i].second->get(zmq::sockopt::fd) : -1;
    fds[beacon_item] = beacon_ ? beacon_->fd() : -1;
    unsigned ready = 0;   // sockets known to hold messages, until their handler runs
    while (!stopping_) {
        ready |= readable_now(dirty_);
        dirty_ = 0;
        // While handlers are behind, the SUB is left unread (its peers drop, never block) and
        // the loop wakes every millisecond to see whether they caught up.
        const bool reading = receiving();
        auto now = clock::now();
        const auto next = std::min({next_beacon_, next_heartbeat_, next_liveness_, next_seed_,
                                    next_stats_poll_, next_call_deadline()});
        auto wait = std::max<std::int64_t>(
            0, std::chrono::duration_cast<milliseconds>(next - now).count() + 1);
        if (!reading) wait = std::min<std::int64_t>(wait, 1);
        if (!posted_.empty() || (ready & (reading ? polled_all : polled_all & ~polled_sub))) wait = 0;
        std::array<pollfd, beacon_item + 1> items{};
        for (std::size_t i = 0; i < fds.size(); ++i) items[i] = {fds[i], POLLIN, 0};
        if (::poll(items.data(), items.size(), static_cast<int>(wait)) < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        // A signalled socket is read, not asked first: its handler's first receive processes
        // the commands behind the signal as a ZMQ_EVENTS check would, and a false alarm
        // costs one EAGAIN, what the check costs every time.
        for (std::size_t i = 0; i < beacon_item; ++i)
            if (items[i].revents & POLLIN) ready |= sockets[i].first;
        now = clock::now();
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
        if (receiving()) run(polled_sub, [&] { return on_sub(now); });
        run(polled_sub_monitor, unsure([&] { on_sub_monitor(now); }));
        run(polled_dialer_monitor, unsure([&] { on_dialer_monitor(now); }));
        run(polled_workers, unsure([&] { on_workers(); }));
        run(polled_zap, unsure([&] { on_zap(); }));
        if (items[beacon_item].revents & POLLIN) on_beacon(now);
        on_timers(clock::now());
        run_posted();
        flush_deliveries();   // call outcomes of this round, in one message
    }
}

void reactor::on_pipe() {
    zmq::message_t msg;
    round_unix_us_ = 0;
    for (int i = 0; i < max_batch && !stopping_; ++i) {
        if (!commands_.recv(msg, zmq::recv_flags::dontwait)) break;
        if (const auto cmd = owned_from<command>(msg))
            std::visit([this](auto& c) { handle(c); }, *cmd);
        else
            on_publish(msg);   // not one pointer: an event frame (node::send_event)
    }
    flush_deliveries();   // own events for own subscriptions
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
    return stats_;
}

void reactor::handle(stop_command&) { stopping_ = true; }

void reactor::on_timers(clock::time_point now) {
    reload_allowlist(now);
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
    run_pending_disconnects(now);
    revive_subs(now);
    expire_calls(now);
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

void reactor::deliver(std::unique_ptr<delivery> d) { send_owned(deliveries_, std::move(d)); }

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
    if (const auto it = senders_.find(p.id); it != senders_.end()) {
        info.events_in = it->second.events_in;
        info.gaps = it->second.gaps;
    }
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
    flush_deliveries();   // events that came before this change are handled before it
    deliver(std::make_unique<delivery>(peer_event{c.kind, c.reason, std::move(info)}));
    if (c.kind == discovery::change_kind::joined) on_peer_joined(c.snapshot);
    if (c.kind == discovery::change_kind::left)
        fail_calls_to(c.snapshot.id, rpc_errc::peer_lost,
                      c.snapshot.name + " left (" + std::string(to_string(c.reason)) + ")");
}

}  // namespace zmesh::detail
