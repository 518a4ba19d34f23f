// SPDX-License-Identifier: MPL-2.0
// reactor: the one thread of a node that owns all its sockets. It waits on them and on the
// components' timers, reads the command pipe, and hands each readiness, timer and command to
// the component that owns it: the mesh (links, handshake, liveness), the publisher and the
// subscriber (events), the RPC client and server, and security.
#pragma once

#include "command.hpp"
#include "context.hpp"
#include "delivery.hpp"
#include "inbox.hpp"
#include "listeners.hpp"
#include "outbox.hpp"
#include "view_signal.hpp"
#include "wait_set.hpp"
#include "mesh/beacons.hpp"
#include "mesh/links.hpp"
#include "mesh/mesh.hpp"
#include "mesh/seeds.hpp"
#include "mesh/sockets.hpp"
#include "pubsub/publisher.hpp"
#include "pubsub/subscriber.hpp"
#include "rpc/call_links.hpp"
#include "rpc/client.hpp"
#include "rpc/server.hpp"
#include "security/security.hpp"
#include "streams/durable_streams.hpp"
#include "streams/stream_admin.hpp"

#include <zmq.hpp>

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace zmesh::detail {

class reactor : private mesh_host, private inbox_reader, private reserved_methods {
public:
    using clock = std::chrono::steady_clock;
    struct setup {
        options opts;
        node_id id;
        std::string command_endpoint;    // bound PULL: commands in
        std::shared_ptr<delivery_queue> deliveries;   // to the delivery thread
        std::shared_ptr<shared_counters> counters;
        std::shared_ptr<worker_pool> workers;   // the hand-off to the RPC handler threads
        // What the node was asked before it started (serve, subscribe), in order: handled
        // before the first poll, so the first HELLO and SUBS already carry it.
        std::vector<command> first;
        // Makes a stream message's settle (node::start: through the command pipe).
        std::function<stream_message::settler(settle_command)> settlers;
        // Told when the peer table or a peer's subscriptions change (node::wait_for_peers).
        std::shared_ptr<view_signal> view;
    };

    // Binds every socket and opens the beacon. Throws std::runtime_error with a one-line
    // message on failure. Runs on the reactor thread.
    explicit reactor(setup s);
    ~reactor();

    const std::string& pub_endpoint() const noexcept { return mesh_.pub_endpoint(); }
    const std::string& router_endpoint() const noexcept { return mesh_.router_endpoint(); }

    // Polls until a stop_command arrives, then sends LEAVE to every peer. Never throws.
    void run() noexcept;

    // Returns: the reactor whose thread this is, or null on any other thread.
    static reactor* of_this_thread() noexcept;
    // Queues what code running on this reactor's thread (run_on::reactor) asks of its own
    // node: done after that code returns (before the ROUTER's next message, or at the end
    // of the round), in order, without the pipe. Only on the reactor thread.
    void post(command c) { posted_.emplace_back(std::move(c)); }
    void post_event(zmq::message_t frame) { posted_.emplace_back(std::move(frame)); }
    std::size_t posted() const noexcept { return posted_.size(); }
    // Starts a call made on this thread (or read from the pipe): the one way a call goes to
    // the wire (rpc_client::call). After stop it fails as stopped.
    void call(call_command&& c);

private:
    // The loop (reactor.cpp). Returns: each waited-on socket with its bit (socket_use.hpp), in
    // the loop's order.
    std::array<std::pair<unsigned, zmq::socket_t*>, 10> polled_sockets() noexcept;
    void loop();
    void on_pipe();
    void run_posted();
    // Reads the gossip datagrams waiting, a batch at most, into the mesh.
    void on_gossip_readable(clock::time_point now);
    void on_timers(clock::time_point now);
    // Ends the node: fails what is open, sends LEAVE, closes every socket.
    void shut_down();
    // Fails a call that came after stop (its caller must not hang); drops anything else.
    void refuse_after_stop(command& c);
    void refuse_after_stop(call_command& c);
    clock::time_point call_clock();

    // Commands (reactor_commands.cpp).
    void handle(peers_query& q);
    void handle(stats_query& q);
    void handle(stop_command&) { stopping_ = true; }
    void handle(subscribe_command& c);
    void handle(unsubscribe_command& c) { subscriber_.unsubscribe(c); }
    void handle(announce_command& c);
    void handle(call_command& c) { call(std::move(c)); }
    void handle(serve_command& c);
    // `stored`: told when the event is on disk (a publish_stored, an administrator's publish).
    void on_publish(zmq::message_t& frame, const stored_callback& stored = {}, std::string_view key = {});
    void handle(publish_stored_command& c) { on_publish(c.frame, tell_promise(std::move(c.stored)), c.key); }
    void handle(declare_stream_command& c) { streams_.handle(c); }
    void handle(remove_stream_command& c) { streams_.handle(c); }
    void handle(streams_query& q) { streams_.handle(q); }
    void handle(consume_command& c) { streams_.handle(c, clock::now()); }
    void handle(stop_consuming_command& c) { streams_.handle(c); }
    void handle(settle_command& c) { streams_.handle(c); }
    node_stats current_stats();
    peer_info to_info(const discovery::peer& p, clock::time_point now) const;

    // What the components tell the node (reactor_peers.cpp).
    void peer_changed(const discovery::peer_change& c) override;
    void peer_dialled(const node_id& id, const std::string& name, const std::string& pub_endpoint) override;
    void peer_named(const node_id& id, const std::string& name) override;
    void member_linked(const discovery::peer& p) override { subscriber_.member_linked(p); }
    bool wants_events_from(const discovery::peer& p) const override { return subscriber_.wants_events_from(p); }
    bool awaits_from(const node_id& id) const override { return client_.awaits_from(id); }
    void peer_unlinked(const node_id& id, const std::string& pub_endpoint) override;
    bool may_dial(const node_id& id) override { return security_.may_dial(id); }
    std::vector<std::string> served_methods() const override { return server_.methods(); }
    std::optional<std::vector<std::string>> published_prefixes() const override { return publisher_.prefixes(); }
    void peer_subscribes(discovery::peer& p, protocol::subs&& s) override;
    void stats_asked(const node_id& from) override;
    void on_rpc(routed_frame& in, std::uint8_t type) override;
    void on_stream(const protocol::sender_route& sender, std::span<const std::uint8_t> frame, std::uint8_t type) override;
    void on_control(const std::optional<protocol::sender_route>& sender, protocol::control& msg) override;
    void on_link_reply(const node_id& from, zmq::message_t& frame);
    bool on_reserved(const node_id& caller, std::string_view method, std::span<const std::uint8_t> args,
                     const pending_reply& reply) override;
    // The allowlist changed: peers it no longer allows leave (revoked), their connections cut.
    void drop_revoked();
    // Tells the node's waiters when the table or a peer's subscriptions changed this round.
    void signal_view_changes();
    void log(log_level l, const std::string& message) const { ctx_.log(l, message); }

    options opts_;
    node_id id_;
    node_stats stats_;
    node_context ctx_{opts_, id_, stats_};
    // The polled sockets used since their last ZMQ_EVENTS check (socket_use.hpp).
    unsigned dirty_ = polled_all;
    socket_use used(unsigned bit) noexcept { return socket_use(dirty_, bit); }

    zmq::context_t net_ctx_{1};            // network sockets only; terminated on exit so
                                           // LEAVE is flushed before the thread ends
    security security_{ctx_, net_ctx_};    // before any secured socket: binds the ZAP handler
    zmq::socket_t commands_;               // in the process-wide pipe context
    std::shared_ptr<delivery_queue> deliveries_;
    listeners listeners_{ctx_, net_ctx_, security_};
    publisher publisher_{ctx_, net_ctx_, security_, listeners_, used(polled_pub)};
    inbox inbox_{ctx_, net_ctx_, security_, listeners_, used(polled_router)};
    links links_{ctx_, net_ctx_, security_, used(polled_dialer)};
    seed_probes seeds_{ctx_, net_ctx_, security_};
    beacons beacons_{ctx_, security_};
    // Gossip datagrams (options::gossip) at the ROUTER's port number; bound by the constructor.
    std::optional<discovery::gossip_socket> gossip_;
    mesh_sockets wire_{ctx_, links_, seeds_, beacons_};
    mesh mesh_{ctx_, wire_, *this};

    std::shared_ptr<shared_counters> counters_;
    // What goes to the delivery thread: events, call outcomes, peer events, in order.
    outbox outbox_{[this](delivery&& d) { deliveries_->push(std::move(d)); },
                   *counters_};
    subscriber subscriber_;   // the events this node takes
    rpc_server server_;       // the methods served, and the requests that come in
    // What the loop sleeps on: the sockets above by index, the beacon's socket, and each
    // call link's as call_links::wait_tag | its descriptor.
    wait_set waits_;
    call_links call_links_{ctx_, net_ctx_, security_, waits_};   // the calls this node makes
    rpc_client client_{ctx_, *counters_, outbox_, mesh_.table(), mesh_, call_links_};
    durable_streams streams_;   // the streams this node publishes and consumes
    // Its streams administered by members (PROTOCOL.md §15); after streams_, so that it ends
    // first and what streams_ tells at its end reaches no reply port.
    stream_admin stream_admin_;

    // See post(): commands and events from reactor code, run at the end of the round. Two
    // vectors swapped each round keep their capacity.
    using posted_item = std::variant<command, zmq::message_t>;
    std::vector<posted_item> posted_, running_;
    clock::time_point round_now_{};   // see call_clock(); zero: not read
    bool stopping_ = false;
    std::shared_ptr<view_signal> view_;
    std::uint64_t view_version_ = 0;   // of the table, when waiters were last told
    bool subscriptions_changed_ = false;   // a peer's SUBS came this round
};

}  // namespace zmesh::detail
