// SPDX-License-Identifier: MPL-2.0
// reactor: the one thread of a node that owns all its sockets. It polls the command pipe,
// the ROUTER, the SUB, the monitors of the SUB and of the dialler, and the beacon socket,
// and runs the timers.
#pragma once

#include "context.hpp"
#include "security/security.hpp"
#include "inbound_connections.hpp"
#include "by_name.hpp"
#include "wait_set.hpp"
#include "command.hpp"
#include "delivery.hpp"
#include "workers.hpp"
#include "outbox.hpp"
#include "pipe.hpp"
#include "pubsub/subscriber.hpp"
#include "rpc/client.hpp"
#include "socket_monitor.hpp"
#include "rpc/server.hpp"
#include "discovery/beacon_socket.hpp"
#include "discovery/peer_table.hpp"
#include "log.hpp"
#include "part_blocks.hpp"
#include "pending_calls.hpp"
#include "protocol/beacon.hpp"
#include "protocol/control.hpp"
#include "protocol/event.hpp"
#include "protocol/rpc.hpp"
#include "topic_counters.hpp"

#include <zmq.hpp>

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <queue>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace zmesh::detail {

using discovery::clock;

// Batches keep one busy socket from starving the others and the timers.
inline constexpr int max_batch = 256;
// The largest frame our PUB reads: a subscription (a byte, then a prefix of up to
// max_topic_len) or a security handshake command, with room to spare.
inline constexpr std::size_t max_pub_frame = 512;
// Subscription messages libzmq reads from one connection before the node sees them.
inline constexpr int max_subscriptions_read_ahead = 64;

// Returns: the system clock in µs since the Unix epoch (event and beacon timestamps).
inline std::uint64_t unix_now_us() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

class reactor : private reply_port, private rpc_client_host, private subscriber_host {
public:
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
    };

    // Binds every socket and opens the beacon. Throws std::runtime_error with a one-line
    // message on failure. Runs on the reactor thread.
    explicit reactor(setup s);
    ~reactor();

    const std::string& pub_endpoint() const noexcept { return self_pub_; }
    const std::string& router_endpoint() const noexcept { return self_router_; }

    // Polls until a stop_command arrives, then sends LEAVE to every peer. Never throws.
    void run() noexcept;

    // Returns: the reactor whose thread this is, or null on any other thread.
    static reactor* of_this_thread() noexcept;
    // Queues what code running on this reactor's thread (run_on::reactor) asks of its own
    // node: done after that code returns (before the ROUTER's next message, or at the end
    // of the round), in order, without the pipe (no allocation for the message, no self
    // wake-up). Only on the reactor thread.
    void post(command c) { posted_.emplace_back(std::move(c)); }
    // Starts a call made on this thread (or read from the pipe): the one way a call goes to
    // the wire (rpc_client::call). After stop it fails as stopped.
    void call(call_command&& c);
    void post_event(zmq::message_t frame) { posted_.emplace_back(std::move(frame)); }
    std::size_t posted() const noexcept { return posted_.size(); }

private:
    // Raises the process's descriptor limit to its hard limit (logged at debug) and warns,
    // in one line, when max_peers would need more.
    void check_descriptors();

    // Loop and pipe (reactor.cpp)
    void loop();
    // The zmq sockets the loop waits on, one bit each.
    enum polled : unsigned {
        polled_commands = 1u << 0,
        polled_router = 1u << 1,
        polled_sub = 1u << 2,
        polled_sub_monitor = 1u << 3,
        polled_zap = 1u << 4,
        polled_dialer_monitor = 1u << 5,
        polled_dialer = 1u << 6,
        polled_pub = 1u << 7,              // subscriptions arriving (XPUB)
        polled_pub_monitor = 1u << 8,      // connections our PUB accepted and lost
        polled_router_monitor = 1u << 9,   // the same for our ROUTER
        polled_all = (1u << 10) - 1,
    };
    // Marks sockets to check before the next wait (see dirty_).
    void touched(unsigned sockets) noexcept { dirty_ |= sockets; }
    // Returns: each waited-on socket with its bit, in the loop's order.
    std::array<std::pair<unsigned, zmq::socket_t*>, 10> polled_sockets() noexcept {
        return {{{polled_commands, &commands_},
                 {polled_router, &router_},
                 {polled_sub, &subscriber_.socket()},
                 {polled_sub_monitor, &subscriber_.monitor()},
                 {polled_zap, &security_.zap_socket()},
                 {polled_dialer_monitor, &dialer_monitor_},
                 {polled_dialer, &dialer_},
                 {polled_pub, &pub_},
                 {polled_pub_monitor, &pub_monitor_},
                 {polled_router_monitor, &router_monitor_}}};
    }
    // Returns: which of `sockets` hold a message now (ZMQ_EVENTS, one syscall each).
    unsigned readable_now(unsigned sockets);
    void on_pipe();
    void run_posted();
    // Fails a call that came after stop (its caller must not hang); drops anything else.
    void refuse_after_stop(command& c);
    void refuse_after_stop(call_command& c);
    void handle(peers_query& q);
    void handle(stats_query& q);
    void handle(stop_command&);
    void handle(subscribe_command& c);
    void handle(unsubscribe_command& c);
    void on_timers(clock::time_point now);
    void emit(const discovery::peer_change& c);
    // Logs a warning when another live member holds the name of `joined`.
    void warn_if_name_shared(const discovery::peer& joined);
    void log(log_level l, const std::string& message) const { ctx_.log(l, message); }

    // Events out (reactor_events.cpp); events in are the subscriber's (node/pubsub/).
    void on_publish(zmq::message_t& frame);
    std::uint64_t next_seq(std::string_view topic);
    // A peer's SUBS came: its filters are at our PUB (applied now, and counted).
    void on_subs(discovery::peer& p, protocol::subs&& s);
    void on_stats_query(const node_id& from);
    void poll_peer_stats();
    // subscriber_host
    void send_to_peer(const node_id& peer, const protocol::control& msg) override { send_to(peer, msg); }
    node_stats current_stats();

    // RPC (reactor_rpc.cpp)
    void handle(call_command& c) { call(std::move(c)); }
    void handle(serve_command& c);
    void on_rpc(discovery::peer& from, routed_frame& in, std::uint8_t type, clock::time_point now);
    // Sends a REPLY frame back on the connection its REQUEST came by, whose routing id at
    // our ROUTER is `routing` (a valid one, taken), or counts it dropped.
    void send_reply(zmq::message_t& routing, zmq::message_t& frame) override;
    // rpc_client_host: what the RPC client asks of the node.
    bool send_on_link(const node_id& peer, zmq::message_t& frame) override;
    void peer_alive(const node_id& peer, clock::time_point now) override;
    void peer_called(const node_id& peer) override;

    // Discovery and liveness (reactor_peers.cpp)
    void open_beacon();
    void send_beacon();
    void on_beacon(clock::time_point now);
    // Returns: true when the ROUTER was read until empty (see loop()).
    bool on_router(clock::time_point now);
    // `sender` is what a message's routing id holds (none: not a node's).
    void on_control(const std::optional<protocol::sender_route>& sender, protocol::control& msg,
                    clock::time_point now);
    // Returns: the joined peer `sender` names, marked alive, when the message came on its
    // link (the routing id quotes its token); null (counted) otherwise.
    discovery::peer* known_sender(const std::optional<protocol::sender_route>& sender,
                                  clock::time_point now);
    // The last sender known_sender found, while the table is as it was then (see
    // peer_table::version): a pipelined caller's requests come one after another.
    struct {
        node_id id;
        discovery::peer* peer = nullptr;
        std::uint64_t version = 0;
    } last_sender_;
    void on_leave(const std::optional<node_id>& sender, std::uint64_t token);
    void on_hello(const protocol::hello& h, clock::time_point now);
    // Dials a newcomer, unless its key is not allowed, the table is full, or another peer
    // holds its endpoints (see discovery/link_trust.hpp). Its HELLO carries `echo` (the
    // token of the HELLO it answers) when given. Returns: whether it was dialled.
    bool dial(const node_id& id, const std::string& name, const std::string& pub_endpoint,
              const std::string& router_endpoint, clock::time_point now, bool want_reply,
              std::uint64_t echo = 0);
    // Both take the id by value: callers often name it by a reference into the peer table
    // or links_, which these erase from.
    void drop_peer(node_id id, leave_reason why);
    void close_links(node_id id, std::string pub_endpoint);
    void send_to(const node_id& id, const protocol::control& msg);

    // Links to peers (reactor_links.cpp). One ROUTER, the dialler, connects to every peer's
    // ROUTER: what we send a peer goes that way, and what it sends us comes to our ROUTER
    // through its own dialler, except the REPLY to a REQUEST: that comes back on the
    // connection the REQUEST came by (one connection, as a raw DEALER-ROUTER round trip).
    // One socket, so one monitor sees each link drop (a killed peer's kernel closes it at
    // once) whether or not our SUB is connected to that peer.
    struct link {
        // The connection's routing id in dialer_: the peer's id and a generation. A connect
        // must not reuse one that the disconnect before it has not yet freed (libzmq aborts).
        std::string routing;
        std::string router_endpoint;   // as connected: the monitor's events name it
        // Something besides PING and PONG went out since our last PING: its round trip is
        // measured again (see send_heartbeats). True at first, to measure it on joining.
        bool used = true;
    };
    // Takes `frame`, which came back on our link to `from`, as a REPLY: counted and dropped
    // when `from` has not joined or it is not a REPLY.
    void accept_reply(discovery::peer* from, zmq::message_t& frame, clock::time_point now);
    // Returns: whether `frame` was queued on `l` (false: its queue is full, or libzmq ended
    // that connection for good, as after a failed security handshake).
    bool send_on(link& l, zmq::message_t& frame);
    bool send_on(link& l, zmq::const_buffer frame);
    // Returns: `msg` encoded; nothing (logged, counted) if it cannot be, which is a bug.
    std::optional<std::vector<std::uint8_t>> encoded(const protocol::control& msg);
    void send_control(link& l, const protocol::control& msg);
    // Our HELLO to `to` (null: to a seed, not yet a peer), with the token we gave it and, as
    // `echo`, the one it gave us unless another is given (the token of the HELLO answered).
    protocol::hello hello_message(const discovery::peer* to, bool want_reply,
                                  std::optional<std::uint64_t> echo = std::nullopt) const;
    // Connects the dialler to a peer. Returns: false (logged) when it could not.
    // `token`: the one we give the peer, which the connection's routing id carries.
    bool open_link(const node_id& id, const std::string& router_endpoint, std::uint64_t token);
    // Returns: the peer whose link is connected to `router_endpoint`, or null.
    const node_id* linked_at(const std::string& router_endpoint) const;
    void close_link(node_id id);
    void on_dialer_monitor(clock::time_point now);
    // Returns: true when the dialler was read until empty (see loop()).
    bool on_dialer(clock::time_point now);
    // Reads one message of a ROUTER: its routing id, and in `frame` the frame after it, any
    // further frames drained. Returns: false when none is waiting; `one_frame` tells whether
    // exactly one frame followed the routing id.
    static bool recv_routed(zmq::socket_t& s, zmq::message_t& routing, zmq::message_t& frame,
                            bool& one_frame);
    void send_peer_list(const node_id& to);
    void send_heartbeats(clock::time_point now);
    void contact_seeds();
    void leave_all();
    void apply(std::vector<discovery::peer_change> changes);
    void apply(std::optional<discovery::peer_change> change);
    peer_info to_info(const discovery::peer& p, clock::time_point now) const;

    options opts_;
    node_id id_;
    node_stats stats_;
    node_context ctx_{opts_, id_, stats_};
    std::string self_pub_, self_router_;   // advertised in HELLO and PEERS
    std::string hello_host_;               // host in our HELLO endpoints
    std::string beacon_host_;              // "" = peers use the datagram source

    zmq::context_t net_ctx_;               // network sockets only; terminated on exit so
                                           // LEAVE is flushed before the thread ends
    security security_;                    // before any secured socket: binds the ZAP handler
    zmq::socket_t commands_;               // in the process-wide pipe context
    std::shared_ptr<delivery_queue> deliveries_;
    zmq::socket_t pub_, router_, dialer_, dialer_monitor_;
    zmq::socket_t pub_monitor_, router_monitor_;   // connections accepted and lost
    std::unique_ptr<discovery::beacon_socket> beacon_;
    std::vector<std::uint8_t> beacon_bytes_;

    discovery::peer_table table_;
    std::unordered_map<node_id, link> links_;               // one per dialled peer
    std::uint32_t link_generation_ = 0;
    std::vector<zmq::socket_t> seed_probes_;               // one per --seed

    std::shared_ptr<shared_counters> counters_;
    topic_counters topic_seq_{max_topics_tracked};               // last seq published per topic
    // sent_us of the events published this round: one clock read per round, not per event
    // (a round of max_batch events takes well under a millisecond). 0: not read yet, so a
    // round without events (a pipelined caller's, one call each) reads no clock.
    std::uint64_t round_unix_us_ = 0;
    // The same for calls' deadlines: the loop's clock read after its wait, read again lazily
    // after posted commands ran (they may follow slow handlers). A clock read costs ~20 ns
    // here, a twentieth of what a pipelined call costs the reactor; a deadline comes at most
    // a round's work (well under a millisecond) early. Zero: not read.
    clock::time_point round_now_{};
    clock::time_point call_clock() {
        if (round_now_ == clock::time_point{}) round_now_ = clock::now();
        return round_now_;
    }
    // What goes to the delivery thread: events, call outcomes, peer events, in order.
    outbox outbox_{[this](delivery&& d) { deliveries_->push(std::move(d)); },
                   *counters_};
    // The events this node takes.
    subscriber subscriber_;
    // The methods served, and the requests that come in.
    rpc_server server_;
    // What the loop sleeps on: the sockets above by index, the beacon's socket, and each
    // call link's as call_links::wait_tag | its descriptor.
    wait_set waits_;
    // The calls this node makes, and its call links.
    call_links call_links_{ctx_, net_ctx_, security_, waits_};
    rpc_client client_{ctx_, *counters_, outbox_, table_, *this, call_links_};

    // Inbound connections (reactor_inbound.cpp): what our PUB and ROUTER accepted.
    // Reads the subscriptions (and unsubscriptions) our PUB received, each with the
    // descriptor of its connection, and cuts a connection that breaks a bound.
    void on_pub();
    // Reads the accepted and closed connections `monitor` of listener `where` reports.
    void on_listener_monitor(zmq::socket_t& monitor, listener where);
    // Records the key and descriptor a ROUTER message came with (secured only).
    void note_router_connection(zmq::message_t& frame, const curve_key& key);
    // Cuts the connection on `fd`, once it is checked to be one `where` accepted (a
    // descriptor closed and reused meanwhile is left alone). Returns: whether it was cut.
    bool cut_connection(listener where, int fd);
    // Cuts every connection that authenticated with a key no longer allowed.
    void cut_revoked_connections();
    inbound_connections inbound_;
    std::uint16_t pub_port_ = 0, router_port_ = 0;   // as bound

    // Security (node/security/): what a frame claiming `claimed` must come with to be read
    // (secured: its connection's key holds that id); the key is recorded for revocation.
    bool admits(const std::optional<node_id>& claimed, zmq::message_t& frame);
    // The allowlist changed: peers it no longer allows leave (revoked), their connections cut.
    void drop_revoked();

    // See post(): commands and events from reactor code, run at the end of the round. Two
    // vectors swapped each round keep their capacity: a deque of such large elements
    // allocated a block every few posts.
    using posted_item = std::variant<command, zmq::message_t>;
    std::vector<posted_item> posted_, running_;

    milliseconds seed_retry_{50};   // doubles after each round of seed HELLOs
    clock::time_point next_beacon_{}, next_heartbeat_{}, next_liveness_{}, next_seed_{},
        next_stats_poll_{};
    bool stopping_ = false;
    // A socket's ZMQ_FD turns readable only when commands reach it (libzmq's "something
    // changed"), and any operation on the socket may consume that signal while messages stay
    // queued. So a socket used since its last ZMQ_EVENTS check is dirty: checked before the
    // loop waits, and only then trusted to its fd. zmq_poll checks every socket before and
    // after every wait instead: a dozen syscalls a round, most of an RPC round trip's cost.
    unsigned dirty_ = polled_all;
};

}  // namespace zmesh::detail
