// SPDX-License-Identifier: MPL-2.0
// security: what makes a mesh secured — CURVE on every network socket, the ZAP handler that
// admits only allowed keys, the check that a sender's id is its key's, signed beacons, and
// the allowlist's reloads. A plain node has one too, which admits everything and secures
// nothing. Owned by the reactor, used on its thread.
#pragma once

#include "beacon_replay.hpp"
#include "node/allowlist.hpp"
#include "node/context.hpp"
#include "protocol/beacon.hpp"

#include <zmq.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace zmesh::detail {

// What a ZAP request (RFC 27) asks: the mechanism and, for CURVE, the client's key.
struct zap_request {
    std::string request_id;
    std::string address;       // the client's IP, for the log
    std::string mechanism;
    std::optional<curve_key> key;
};
// Returns: the request in the frames libzmq sent, or nothing for a malformed one.
std::optional<zap_request> read_zap_request(const std::vector<std::string>& frames);

class security {
public:
    using clock = std::chrono::steady_clock;

    // Reads the keys and the allowlist of `ctx.opts` and, when secured, binds the ZAP
    // handler in `net` (before any secured socket exists: libzmq admits every connection
    // while no handler is bound). Throws std::invalid_argument for a bad key or allow dir.
    security(node_context& ctx, zmq::context_t& net);

    bool secured() const noexcept { return allow_.has_value(); }

    // Before bind: makes `s` a CURVE server that asks ZAP about each connection.
    void secure_server(zmq::socket_t& s) const;
    // Returns: false (counted, logged once) when `peer` has no allowed key; true when plain.
    bool may_dial(const protocol::node_id& peer);
    // Before connect to `peer`: makes `s` a CURVE client that proves `peer` holds its key.
    // Returns: false, as may_dial, when it may not be dialled.
    bool secure_client(zmq::socket_t& s, const protocol::node_id& peer);
    // Before connect to a seed named by `seed_key` (Z85): the same, for a probe.
    void secure_probe(zmq::socket_t& s, const std::string& seed_key, const std::string& endpoint) const;

    // The socket ZAP requests arrive on (none when plain), and its handler.
    zmq::socket_t& zap_socket() noexcept { return zap_; }
    void on_zap();

    // Returns: whether a frame claiming `claimed` (a HELLO's id, or a routing id's) may be
    // read: always when plain; when secured, only when its connection's key holds that id
    // (counted, logged once, otherwise). `key` is set to that key.
    bool admits(const std::optional<protocol::node_id>& claimed, zmq::message_t& frame,
                std::optional<curve_key>& key);
    // Returns: whether `key` is allowed now; always true when plain.
    bool allows(const curve_key& key) const { return !secured() || allow_->allows(key); }
    // Returns: whether `peer`'s key is allowed now; always true when plain.
    bool allows(const protocol::node_id& peer) const { return !secured() || allow_->key_for(peer); }

    // Re-reads the allow directory when it is time. Returns: true when the keys changed;
    // the caller then drops the peers it no longer allows and cuts their connections.
    bool reload(clock::time_point now);

    // Returns: whether beacon `b` (whose datagram is `datagram`) may be believed: always
    // without a mesh secret; with one, only signed with it and fresh (counted otherwise).
    bool beacon_authentic(const protocol::beacon& b, std::span<const std::uint8_t> datagram,
                          std::uint64_t wall_us, clock::time_point now);

    // Closes the ZAP socket (before its context closes).
    void close() { zap_.close(); }

private:
    node_context& ctx_;
    std::optional<allowlist> allow_;
    std::string public_key_, secret_key_;   // Z85
    zmq::socket_t zap_;
    clock::time_point next_reload_{};
    beacon_replay replays_;
};

}  // namespace zmesh::detail
