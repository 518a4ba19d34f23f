// SPDX-License-Identifier: MPL-2.0
// reactor, setup half: the sockets a node binds and dials with, their options and monitors,
// the beacon and the seed probes. The loop that uses them is in reactor.cpp.
#include "reactor.hpp"

#include "descriptors.hpp"
#include "keys.hpp"
#include "socket_monitor.hpp"
#include "pipe.hpp"
#include "protocol/endpoint.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

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
      net_ctx_(1),
      security_(ctx_, net_ctx_),
      commands_(pipe_context(), zmq::socket_type::pull),
      deliveries_(std::move(s.deliveries)),
      table_(opts_.liveness),
      counters_(std::move(s.counters)),
      subscriber_(ctx_, *counters_, outbox_, table_, security_, *this, net_ctx_, socket_use(dirty_, polled_sub)),
      server_(ctx_, *this, std::move(s.workers)) {
    check_descriptors();
    commands_.set(zmq::sockopt::linger, 0);
    commands_.bind(s.command_endpoint);
    for (auto& c : s.first) posted_.emplace_back(std::move(c));

    const auto secure = [this](zmq::socket_t& s) { security_.secure_server(s); };
    // An XPUB, not a PUB: it hands the node each subscription with the descriptor of its
    // connection, so that one connection's subscriptions can be bounded (inbound_).
    pub_ = bind_socket(net_ctx_, zmq::socket_type::xpub, opts_.bind, opts_.pub_port, "PUB",
                       opts_.send_hwm, [&](zmq::socket_t& s) {
                           // Every subscription and unsubscription, not only the first of
                           // a prefix: they are counted per connection.
                           s.set(zmq::sockopt::xpub_verboser, 1);
                           // A subscription is one byte and a prefix of at most
                           // max_topic_len; the security handshake's commands are under this
                           // too. A longer frame ends its connection before it is allocated.
                           s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_pub_frame));
                           // Subscriptions libzmq reads ahead of the node, per connection:
                           // they reach its trie before the node can refuse them.
                           s.set(zmq::sockopt::rcvhwm, max_subscriptions_read_ahead);
                           // Before bind: a connection accepted at once is reported too.
                           pub_monitor_ = watch(net_ctx_, s, "PUB", listen_events);
                           secure(s);
                       });
    router_ = bind_socket(net_ctx_, zmq::socket_type::router, opts_.bind, opts_.router_port,
                          "ROUTER", opts_.peer_queue, [&](zmq::socket_t& s) {
                              router_monitor_ = watch(net_ctx_, s, "ROUTER", listen_events);
                              // Past this a connection is dropped by libzmq before the
                              // frame is allocated, whatever a stranger announces. Before
                              // bind: the listener's connections copy the socket's options
                              // as they are then. The largest valid frame: a control frame,
                              // or an RPC header and its body.
                              s.set(zmq::sockopt::maxmsgsize,
                                    static_cast<int64_t>(std::max(
                                        protocol::max_control_size,
                                        protocol::max_rpc_header_size + opts_.max_rpc_size)));
                              secure(s);
                          });
    // A peer that reconnects (same id) replaces its stale connection instead of being refused.
    router_.set(zmq::sockopt::router_handover, 1);
    // It sends only REPLYs, each back on its caller's link: one that cannot go is counted.
    router_.set(zmq::sockopt::router_mandatory, 1);

    // The dialler: see links_. Send-only; a message for a peer waits in its connection's
    // queue (up to peer_queue) until connected, as a DEALER's would.
    dialer_ = zmq::socket_t(net_ctx_, zmq::socket_type::router);
    dialer_.set(zmq::sockopt::linger, 0);
    dialer_.set(zmq::sockopt::sndhwm, opts_.peer_queue);   // thousands of calls in flight
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
    dialer_monitor_ = watch(net_ctx_, dialer_, "dialler", dial_events | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);

    open_beacon();
    pub_port_ = bound_port(pub_);
    router_port_ = bound_port(router_);
    self_pub_ = "tcp://" + hello_host_ + ":" + std::to_string(pub_port_);
    self_router_ = "tcp://" + hello_host_ + ":" + std::to_string(router_port_);

    for (const auto& s : opts_.seeds) {
        const auto seed = split_seed(s);
        zmq::socket_t probe(net_ctx_, zmq::socket_type::dealer);
        probe.set(zmq::sockopt::linger, 0);
        security_.secure_probe(probe, seed.key, seed.endpoint);
        // Without a connection a probe HELLO is dropped, not queued: a seed that comes back
        // later gets one fresh HELLO, not a backlog.
        probe.set(zmq::sockopt::immediate, 1);
        probe.set(zmq::sockopt::sndhwm, 4);
        // Nothing comes back on a probe (the seed answers by dialling us), and it is never
        // read: whatever is at that endpoint may queue one small frame there, no more.
        probe.set(zmq::sockopt::rcvhwm, 1);
        probe.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_pub_frame));
        probe.connect(seed.endpoint);
        seed_probes_.push_back(std::move(probe));
    }
    log(log_level::info, "node " + id_.short_hex() + " on mesh '" + opts_.mesh + "': pub " +
                             self_pub_ + ", router " + self_router_);
}

void reactor::check_descriptors() {
    const auto limit = raise_descriptor_limit();
    if (!limit) return;
    if (limit->now != limit->before)
        log(log_level::debug, "file descriptor limit raised from " + std::to_string(limit->before) +
                                  " to " + std::to_string(limit->now));
    if (const auto shortfall = descriptor_shortfall(opts_.max_peers, limit->now))
        log(log_level::warn, *shortfall);
}

reactor::~reactor() = default;

}  // namespace zmesh::detail
