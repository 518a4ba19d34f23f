// SPDX-License-Identifier: MPL-2.0
// reactor, inbound connections: the subscriptions our PUB receives, bounded per connection
// and in all; the connections our PUB and ROUTER accept and lose; and cutting one of them
// (one that broke a bound, or whose key was revoked), which libzmq itself cannot do.
#include "reactor.hpp"

#include <zmesh/keys.hpp>

#include <sys/socket.h>
#include <netinet/in.h>

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

void reactor::on_pub() {
    zmq::message_t msg;
    for (int i = 0; i < max_batch; ++i) {
        if (!pub_.recv(msg, zmq::recv_flags::dontwait)) return;
        if (msg.size() == 0) continue;
        // Unsubscriptions libzmq makes for a connection that ended come with no descriptor:
        // that connection's record went with its close (on_listener_monitor).
        const int fd = zmq_msg_get(msg.handle(), ZMQ_SRCFD);
        if (fd < 0) continue;
        if (security_.secured())
            if (const auto key = key_of(msg)) inbound_.keyed(listener::pub, fd, *key);
        const std::string_view prefix(msg.data<char>() + 1, msg.size() - 1);
        if (*msg.data<std::uint8_t>() == 0) {
            inbound_.unsubscribe(fd, prefix);
            continue;
        }
        if (inbound_.subscribe(fd, prefix) != inbound_connections::verdict::refused) continue;
        ++stats_.subscriptions_refused;
        const auto& limits = inbound_.limits();
        ctx_.warn_once("subscriptions refused", log_level::warn,
                  "cut a connection to our PUB that subscribed past a bound (prefixes of at most " +
                      std::to_string(limits.max_prefix) + " bytes, " +
                      std::to_string(limits.max_per_connection) + " and " +
                      std::to_string(limits.max_bytes_per_connection) + " bytes of them per connection, " +
                      std::to_string(limits.max_bytes_total) + " bytes in all)");
        cut_connection(listener::pub, fd);
    }
}

void reactor::on_listener_monitor(zmq::socket_t& monitor, listener where) {
    monitor_event e;
    for (int i = 0; i < max_batch && read_monitor_event(monitor, e); ++i) {
        if (e.kind == ZMQ_EVENT_ACCEPTED)
            inbound_.accepted(where, static_cast<int>(e.value));
        else if (e.kind == ZMQ_EVENT_DISCONNECTED)
            inbound_.closed(static_cast<int>(e.value));
    }
}

void reactor::note_router_connection(zmq::message_t& frame, const curve_key& key) {
    const int fd = zmq_msg_get(frame.handle(), ZMQ_SRCFD);
    if (fd >= 0) inbound_.keyed(listener::router, fd, key);
}

bool reactor::cut_connection(listener where, int fd) {
    // A connection that ended has its descriptor reported closed before libzmq closes it:
    // read those reports first, so a descriptor reused since is not taken for it.
    on_listener_monitor(where == listener::pub ? pub_monitor_ : router_monitor_, where);
    if (!inbound_.prefixes_of(fd)) return false;   // closed meanwhile
    // The descriptor must still be a connection to that listener's port.
    if (local_port_of_connection(fd) != (where == listener::pub ? pub_port_ : router_port_))
        return false;
    inbound_.cutting(fd);
    // libzmq sees the peer hang up and ends the connection, and with it what it subscribed.
    if (::shutdown(fd, SHUT_RDWR) != 0) return false;
    ++stats_.connections_cut;
    return true;
}

void reactor::cut_revoked_connections() {
    if (!security_.secured()) return;
    for (const auto& [where, fd] : inbound_.keyed_unless([&](const curve_key& k) { return security_.allows(k); }))
        cut_connection(where, fd);
}

}  // namespace zmesh::detail
