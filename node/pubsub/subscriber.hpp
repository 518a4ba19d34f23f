// SPDX-License-Identifier: MPL-2.0
// subscriber: the events a node takes — its prefixes (what its SUB filters on, refcounted),
// its SUB's connections to peers' PUBs (only while it subscribes to anything), each sender's
// sequence per topic (gaps), the events a peer sends before its HELLO (held until it joins),
// a departed peer's last events (drained before its connection goes), and where each event
// goes (handlers on the reactor at once, handler threads through the outbox).
#pragma once

#include "node/context.hpp"
#include "node/mesh/peer_port.hpp"
#include "node/outbox.hpp"
#include "node/part_blocks.hpp"
#include "node/security/security.hpp"
#include "node/socket_use.hpp"
#include "senders.hpp"
#include "subscriptions.hpp"
#include "discovery/peer_table.hpp"
#include "protocol/control.hpp"
#include "protocol/event.hpp"

#include <zmq.hpp>

#include <chrono>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace zmesh::detail {

class subscriber {
public:
    using clock = std::chrono::steady_clock;

    // Opens the node's SUB in `net` (not connected yet) and its monitor. Throws
    // std::runtime_error when libzmq refuses.
    subscriber(node_context& ctx, shared_counters& counters, outbox& out, const discovery::peer_table& table,
               security& sec, peer_port& host, zmq::context_t& net, socket_use sub_used);

    zmq::socket_t& socket() noexcept { return sub_; }
    zmq::socket_t& monitor() noexcept { return monitor_; }

    // Returns: whether the handler threads keep up (fewer than receive_queue events wait
    // for them); while not, the SUB is left unread and its publishers drop.
    bool receiving() const;
    // Reads what the SUB holds, a batch at most. Returns: true when it was read until empty.
    bool on_readable(clock::time_point now);
    // Reads the SUB's connection events (handshakes done, connections lost).
    void on_monitor(clock::time_point now);
    // Dials again the event connections libzmq gave up on; disconnects drained ones.
    void on_timers(clock::time_point now);

    void subscribe(subscribe_command& c);
    void unsubscribe(unsubscribe_command& c);
    // Delivers this node's own event (published on `topic` with header `h`) to its own
    // subscriptions that match.
    void deliver_local(std::string_view topic, const protocol::event_header& h,
                       std::span<const std::uint8_t> payload);
    bool wants(std::string_view topic) const;

    // Peer events. A peer dialled: its events may come before its HELLO, and are held.
    void peer_dialled(const protocol::node_id& id, const std::string& name, const std::string& pub_endpoint);
    // Returns: whether this node subscribes to anything. Our SUB connects to a peer's PUB only
    // while it does.
    bool wants_events() const noexcept { return subscriptions_.any(); }
    // Returns: whether `p` may publish something this node subscribes to (by the prefixes its
    // meta lists; one that lists none may publish anything).
    bool wants_events_from(const discovery::peer& p) const;
    // `p`, a member known by gossip alone, was linked: its events are taken from now on.
    void member_linked(const discovery::peer& p);
    void peer_named(const protocol::node_id& id, const std::string& name);
    // It joined: what it sent before is delivered, and it is told our prefixes once our
    // filters are at its PUB.
    void peer_joined(const discovery::peer& p, clock::time_point now);
    // It is gone: what it sent in handshake is dropped; its connection drains, then goes.
    void peer_gone(const protocol::node_id& id, const std::string& pub_endpoint);
    // Its key was revoked: nothing more of it is delivered, its connection goes now. Not
    // while the SUB is being read.
    void peer_revoked(const protocol::node_id& id, const std::string& pub_endpoint);
    // Its SUBS came: what it subscribes to.
    void peer_subscribes(discovery::peer& p, protocol::subs&& s);

    // What we have taken from `id`: events accepted, and events missed by sequence.
    senders::figures of(const protocol::node_id& id) const { return senders_.of(id); }

    // Stops reading (the node stops): closes the monitor and the SUB.
    void close();

private:
    // The sender of the last event read in this round: consecutive events mostly share one,
    // so its entry is looked up once and its liveness renewed once.
    struct sender_run {
        protocol::node_id id;
        senders::sender* entry = nullptr;
        bool alive_noted = false;
    };
    struct pending_disconnect {
        std::string pub_endpoint;
        protocol::node_id id;
        clock::time_point at;
    };

    // How long a departed peer's SUB connection stays, to take its last events.
    static constexpr std::chrono::milliseconds leave_drain{1000};
    // libzmq ends a SUB connection for good after a protocol error (a frame over maxmsgsize)
    // and retries at once only after a connection error: a drop with no retry this long after
    // is the former, and the SUB dials that peer again.
    static constexpr std::chrono::milliseconds revive_after{300};

    void accept(zmq::message_t& frame, clock::time_point now, sender_run& run);
    void run_reactor_handlers(const event& e);
    void connect(const protocol::node_id& id, const std::string& pub_endpoint);
    void connect_to_all();
    void disconnect(const std::string& pub_endpoint);
    void send_subs(const protocol::node_id& to);
    void send_subs_to_all();
    void on_handshake(const std::string& pub_endpoint);
    void revive(clock::time_point now);
    void run_pending_disconnects(clock::time_point now);

    node_context& ctx_;
    shared_counters& counters_;
    outbox& out_;
    const discovery::peer_table& table_;
    security& security_;
    peer_port& host_;
    zmq::socket_t sub_, monitor_;
    socket_use sub_used_;
    subscriptions subscriptions_;   // the application's; their prefixes are the SUB's filters
    senders senders_;   // peers whose events we take
    // Pub endpoints our SUB is connected to: every peer's while we subscribe to anything,
    // none before (a node that only calls and serves pays for no event connections, two of
    // the four per pair of nodes). Once connected, a link stays until its peer leaves.
    std::unordered_set<std::string> links_;
    std::unordered_set<std::string> ready_;   // of those, handshaken
    std::vector<pending_disconnect> pending_disconnects_;   // drained, then disconnected
    std::unordered_map<std::string, clock::time_point> dropped_;   // pub endpoint -> when
    part_blocks payload_blocks_;   // small payloads of the events handed over
};

}  // namespace zmesh::detail
