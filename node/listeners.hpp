// SPDX-License-Identifier: MPL-2.0
// listeners: the connections our PUB and ROUTER accept. Each listener's monitor reports them
// made and lost; the subscriptions our PUB receives are bounded per connection and in all
// (inbound_connections keeps the count); and a connection is cut — which libzmq itself
// cannot do — when it breaks a bound or its key is revoked.
#pragma once

#include "context.hpp"
#include "inbound_connections.hpp"
#include "security/security.hpp"

#include <zmq.hpp>

#include <cstdint>

namespace zmesh::detail {

class listeners {
public:
    listeners(node_context& ctx, zmq::context_t& net, const security& sec) : ctx_(ctx), net_(net), security_(sec) {}

    // Watches the connections `s` accepts and loses. Before bind: a connection accepted at
    // once is reported too.
    void watch(zmq::socket_t& s, listener where);
    void bound(listener where, std::uint16_t port) { (where == listener::pub ? pub_port_ : router_port_) = port; }
    zmq::socket_t& monitor(listener where) { return where == listener::pub ? pub_monitor_ : router_monitor_; }

    // Reads the accepted and closed connections `where`'s monitor reports, up to a batch.
    // Returns: whether the batch was full (more may wait).
    bool on_monitor(listener where);
    // A subscription or unsubscription our PUB read, with its connection's descriptor:
    // counted, and the connection cut when it breaks a bound.
    void on_subscription(zmq::message_t& msg);
    // Records the key a ROUTER message came with (secured only), to cut its connection if
    // the key is revoked.
    void keyed_router_message(zmq::message_t& frame, const curve_key& key);
    // Cuts every connection that authenticated with a key no longer allowed.
    void cut_revoked();
    // Stops the monitors of `pub` and `router`, then closes them.
    void close(zmq::socket_t& pub, zmq::socket_t& router);

private:
    // Reads every report `where`'s monitor holds.
    void read_all_reports(listener where);
    // Cuts the connection on `fd`, once it is checked to be one `where` accepted (a
    // descriptor closed and reused meanwhile is left alone). Returns: whether it was cut.
    bool cut(listener where, int fd);

    node_context& ctx_;
    zmq::context_t& net_;
    const security& security_;
    zmq::socket_t pub_monitor_, router_monitor_;
    std::uint16_t pub_port_ = 0, router_port_ = 0;   // as bound
    inbound_connections inbound_;
};

}  // namespace zmesh::detail
