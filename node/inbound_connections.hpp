// SPDX-License-Identifier: MPL-2.0
// inbound_connections: what each connection accepted by our PUB or ROUTER has shown of
// itself (the key it authenticated with, the topic prefixes it subscribed to), the bounds on
// what one may subscribe, and which connections must be cut. Pure bookkeeping: no sockets.
// The reactor tells it what libzmq reports (a listener's accepted and closed connections,
// the descriptor and key each message came with) and cuts the descriptors it names.
//
// Why by descriptor: libzmq cannot close one connection of a socket, but every message it
// hands over names the descriptor of its connection (ZMQ_SRCFD), and a socket shut down
// under libzmq is seen by it as the peer hanging up.
#pragma once

#include "allowlist.hpp"
#include "protocol/limits.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace zmesh::detail {

enum class listener { pub, router };

// What subscribers may ask of our PUB. libzmq keeps every prefix in a trie of one node per
// byte, so the bytes subscribed are what costs memory.
struct subscription_limits {
    std::size_t max_prefix = protocol::max_topic_len;             // bytes in one prefix
    std::size_t max_per_connection = protocol::max_subscriptions; // distinct prefixes
    std::size_t max_bytes_per_connection = protocol::max_subscription_bytes;   // summed
    std::size_t max_bytes_total = 2 * 1024 * 1024;                // over every connection
};

class inbound_connections {
public:
    explicit inbound_connections(subscription_limits limits = {}) : limits_(limits) {}

    const subscription_limits& limits() const noexcept { return limits_; }

    // A listener accepted a connection on descriptor `fd`. A descriptor still recorded is
    // a connection whose close was not reported yet: it is forgotten first.
    void accepted(listener where, int fd);
    // The connection on `fd` ended: what it subscribed is gone with it.
    void closed(int fd);

    enum class verdict {
        applied,     // a new prefix of that connection, within every bound
        repeated,    // it had subscribed that prefix already: nothing changes
        refused,     // over a bound, or the connection is being cut: cut it (again)
    };
    // A subscription to `prefix` came on `fd` (libzmq has applied it already). Returns:
    // refused when it breaks a bound; from then on the connection counts as cut and every
    // later subscription of it is refused too.
    verdict subscribe(int fd, std::string_view prefix);
    // An unsubscription from `prefix` came on `fd`.
    void unsubscribe(int fd, std::string_view prefix);

    // A message on `fd` was authenticated with `key` (CURVE).
    void keyed(listener where, int fd, const curve_key& key);
    // Returns: every recorded connection whose key fails `allowed`, with its listener.
    std::vector<std::pair<listener, int>> keyed_unless(
        const std::function<bool(const curve_key&)>& allowed) const;
    // The connection on `fd` is being cut: it subscribes nothing more.
    void cutting(int fd);

    std::size_t connections() const noexcept { return by_fd_.size(); }
    std::size_t subscription_bytes() const noexcept { return total_bytes_; }
    // Returns: the prefixes `fd` holds, or nothing when it is not recorded.
    const std::set<std::string, std::less<>>* prefixes_of(int fd) const;

private:
    struct connection {
        listener where = listener::pub;
        std::optional<curve_key> key;
        std::set<std::string, std::less<>> prefixes;
        std::size_t bytes = 0;
        bool cut = false;
    };
    connection& at(listener where, int fd);
    void forget(std::unordered_map<int, connection>::iterator it);

    subscription_limits limits_;
    // A descriptor names one open connection of this process at a time.
    std::unordered_map<int, connection> by_fd_;
    std::size_t total_bytes_ = 0;
};

}  // namespace zmesh::detail
