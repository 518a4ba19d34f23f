// SPDX-License-Identifier: MPL-2.0
// links: this node's connection to each peer's ROUTER, all on one ROUTER socket of ours, the
// dialler. What we send a peer goes that way; what it sends us comes to our ROUTER through
// its own dialler, except the REPLY to a REQUEST, which comes back on the connection the
// REQUEST came by (one connection, as a raw DEALER-ROUTER round trip). One socket, so one
// monitor sees each link drop (a killed peer's kernel closes it at once).
#pragma once

#include "node/context.hpp"
#include "node/security/security.hpp"
#include "node/socket_use.hpp"
#include "wire.hpp"
#include "protocol/control.hpp"
#include "protocol/node_id.hpp"

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace zmesh::detail {

class links {
public:
    using clock = std::chrono::steady_clock;

    // Opens the dialler in `net` and its monitor. Throws zmq::error_t when libzmq refuses.
    links(node_context& ctx, zmq::context_t& net, security& sec, socket_use dialer_used);

    zmq::socket_t& socket() noexcept { return dialer_; }
    zmq::socket_t& monitor() noexcept { return monitor_; }

    // See mesh_wire::open_link. `self`: our id, which the peer's ROUTER knows us by.
    bool open(const protocol::node_id& id, const std::string& router_endpoint, std::uint64_t token);
    void close(const protocol::node_id& id);
    bool has(const protocol::node_id& id) const { return links_.contains(id); }
    // Returns: whether `frame` was queued on the link to `id` (false: none, its queue is
    // full, or libzmq ended that connection for good, as after a failed security handshake).
    bool send(const protocol::node_id& id, zmq::message_t& frame);
    // Encodes and sends `msg`, counting it dropped when it cannot go. PING and PONG leave
    // the link's `used` mark as it was.
    void send(const protocol::node_id& id, const protocol::control& msg);
    bool take_used(const protocol::node_id& id);
    void mark_used(const protocol::node_id& id);

    // Reads REPLYs that came back on our links, a batch at most, handing each with the id
    // of the peer whose current link it came on; anything else is counted and dropped.
    // `between` runs before each read (what the last reply's callback asked for goes out
    // first) and stops the read when it returns false. Returns: true when read until empty.
    bool on_readable(const std::function<bool()>& between,
                     const std::function<void(const protocol::node_id&, zmq::message_t&)>& reply);
    // Reads the monitor's events, each with the peer of the link it is about.
    void on_monitor(const std::function<void(const protocol::node_id&, link_event)>& seen);

    // Stops watching, gives what is queued (LEAVE) time to go, and closes the dialler.
    void close_all();

private:
    struct link {
        // The connection's routing id in dialer_: 'L', a generation, the peer's id. A connect
        // must not reuse one that the disconnect before it has not yet freed (libzmq aborts).
        std::string routing;
        std::string router_endpoint;   // as connected: the monitor's events name it
        // Something besides PING and PONG went out since our last PING: its round trip is
        // measured again. True at first, to measure it on joining.
        bool used = true;
    };
    bool send_on(link& l, zmq::message_t& frame);
    // Returns: the peer whose link is connected to `router_endpoint`, if any.
    std::optional<protocol::node_id> linked_at(const std::string& router_endpoint) const;

    node_context& ctx_;
    security& security_;
    socket_use dialer_used_;
    zmq::socket_t dialer_, monitor_;
    std::unordered_map<protocol::node_id, link> links_;
    std::uint32_t generation_ = 0;
};

}  // namespace zmesh::detail
