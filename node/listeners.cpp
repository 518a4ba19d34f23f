// SPDX-License-Identifier: MPL-2.0
// listeners: accepted connections, their subscriptions' bounds, and cutting one.
#include "listeners.hpp"

#include <zmesh/keys.hpp>
#include "socket_monitor.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string_view>

namespace zmesh::detail {

namespace {

// Returns: the local port of socket `fd`, or 0 when it is not a connected TCP socket.
std::uint16_t local_port_of_connection(int fd) {
    sockaddr_storage local{}, remote{};
    socklen_t local_size = sizeof local, remote_size = sizeof remote;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_size) != 0)
        return 0;
    if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(local).sin_port);
    if (local.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(local).sin6_port);
    return 0;
}

// Returns: the key a message was authenticated with (CURVE), if any.
std::optional<curve_key> key_of(zmq::message_t& msg) {
    const char* user = zmq_msg_gets(msg.handle(), "User-Id");
    return user ? decode_key(user) : std::nullopt;
}

}  // namespace

void listeners::watch(zmq::socket_t& s, listener where) {
    monitor(where) = detail::watch(net_, s, where == listener::pub ? "PUB" : "ROUTER", listen_events);
}

bool listeners::on_monitor(listener where) {
    monitor_event e;
    for (int i = 0; i < max_batch; ++i) {
        if (!read_monitor_event(monitor(where), e)) return false;
        if (e.kind == ZMQ_EVENT_ACCEPTED)
            inbound_.accepted(where, static_cast<int>(e.value));
        else if (e.kind == ZMQ_EVENT_DISCONNECTED)
            inbound_.closed(static_cast<int>(e.value));
    }
    return true;
}

void listeners::read_all_reports(listener where) {
    while (on_monitor(where)) {
    }
}

void listeners::on_subscription(zmq::message_t& msg) {
    if (msg.size() == 0) return;
    // Unsubscriptions libzmq makes for a connection that ended come with no descriptor:
    // that connection's record went with its close (on_monitor).
    const int fd = zmq_msg_get(msg.handle(), ZMQ_SRCFD);
    if (fd < 0) return;
    // libzmq reports a connection accepted (and the one before on its descriptor closed)
    // before any message of it reaches the PUB, but on another pipe, which the loop may read
    // later: read them now, or this subscription is counted on the earlier connection's
    // record, or on one its late report of being accepted then starts afresh.
    read_all_reports(listener::pub);
    if (security_.secured())
        if (const auto key = key_of(msg)) inbound_.keyed(listener::pub, fd, *key);
    const std::string_view prefix(msg.data<char>() + 1, msg.size() - 1);
    if (*msg.data<std::uint8_t>() == 0) {
        inbound_.unsubscribe(fd, prefix);
        return;
    }
    if (inbound_.subscribe(fd, prefix) != inbound_connections::verdict::refused) return;
    ++ctx_.stats.subscriptions_refused;
    const auto& limits = inbound_.limits();
    ctx_.warn_once("subscriptions refused", log_level::warn,
                   "cut a connection to our PUB that subscribed past a bound (prefixes of at most " +
                       std::to_string(limits.max_prefix) + " bytes, " +
                       std::to_string(limits.max_per_connection) + " and " +
                       std::to_string(limits.max_bytes_per_connection) + " bytes of them per connection, " +
                       std::to_string(limits.max_bytes_total) + " bytes in all)");
    cut(listener::pub, fd);
}

void listeners::keyed_router_message(zmq::message_t& frame, const curve_key& key) {
    const int fd = zmq_msg_get(frame.handle(), ZMQ_SRCFD);
    if (fd >= 0) inbound_.keyed(listener::router, fd, key);
}

bool listeners::cut(listener where, int fd) {
    // A connection that ended has its descriptor reported closed before libzmq closes it:
    // read those reports first, so a descriptor reused since is not taken for it.
    read_all_reports(where);
    if (!inbound_.prefixes_of(fd)) return false;   // closed meanwhile
    // The descriptor must still be a connection to that listener's port.
    if (local_port_of_connection(fd) != (where == listener::pub ? pub_port_ : router_port_)) return false;
    inbound_.cutting(fd);
    // libzmq sees the peer hang up and ends the connection, and with it what it subscribed.
    if (::shutdown(fd, SHUT_RDWR) != 0) return false;
    ++ctx_.stats.connections_cut;
    return true;
}

void listeners::cut_revoked() {
    if (!security_.secured()) return;
    for (const auto& [where, fd] : inbound_.keyed_unless([&](const curve_key& k) { return security_.allows(k); }))
        cut(where, fd);
}

void listeners::close(zmq::socket_t& pub, zmq::socket_t& router) {
    for (auto* s : {&pub, &router})
        if (s->handle()) zmq_socket_monitor(s->handle(), nullptr, 0);
    pub_monitor_.close();
    router_monitor_.close();
}

}  // namespace zmesh::detail
