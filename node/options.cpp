// SPDX-License-Identifier: MPL-2.0
// options: what node's constructor checks before anything starts.
#include <zmesh/options.hpp>

#include "protocol/beacon.hpp"
#include "protocol/endpoint.hpp"
#include "protocol/limits.hpp"
#include "protocol/member_meta.hpp"

#include <zmesh/keys.hpp>

#include <zmq.h>

#include <cstdint>

namespace zmesh {

std::string validate(const options& o) {
    using namespace protocol;
    if (o.name.empty() || o.name.size() > max_name_len) return "name must be 1..64 bytes";
    if (o.mesh.empty() || o.mesh.size() > max_mesh_len) return "mesh must be 1..64 bytes";
    if (o.advertise.size() > max_host_len) return "advertise host is too long";
    if (o.beacon_port == 0) return "beacon port must be 1..65535";
    if (o.beacon_interval.count() < 0) return "beacon interval must be >= 0";
    if (o.seed_interval.count() <= 0) return "seed interval must be > 0";
    for (const auto& s : o.seeds) {
        const auto seed = split_seed(s);
        if (!parse_tcp_endpoint(seed.endpoint)) return "seed '" + s + "' is not tcp://HOST:PORT";
        // A secured node must know whom it dials; a plain one cannot check a key.
        if (o.secret_key.empty() && !seed.key.empty())
            return "seed '" + s + "' names a key: only a secured node (with a secret key) can use it";
        if (!o.secret_key.empty() && !decode_key(seed.key))
            return "seed '" + s + "' needs the seed's public key: KEY@tcp://HOST:PORT";
    }
    const auto& l = o.liveness;
    if (l.heartbeat.count() <= 0) return "heartbeat must be > 0";
    if (l.evasive <= l.heartbeat) return "evasive timeout must exceed the heartbeat";
    if (l.expired <= l.evasive) return "expired timeout must exceed the evasive timeout";
    if (l.handshake.count() <= 0 || l.disconnect_grace.count() <= 0)
        return "handshake and disconnect timeouts must be > 0";
    if (o.bind.empty()) return "bind host must not be empty";
    if (o.send_hwm < 0 || o.receive_hwm < 0) return "high-water marks must be >= 0";
    if (o.receive_queue == 0 || o.publish_queue == 0 || o.publish_queue > INT32_MAX)
        return "receive and publish queues must be 1..2^31";
    if (o.max_event_size == 0 || o.max_event_size > 256u * 1024 * 1024)
        return "max event size must be 1 B..256 MiB";
    if (o.stats_poll.count() < 0) return "stats poll interval must be >= 0";
    if (o.rpc_workers == 0 || o.rpc_workers > 1024) return "rpc workers must be 1..1024";
    if (o.rpc_queue == 0) return "rpc queue must be >= 1";
    if (o.peer_queue < 0) return "peer queue must be >= 0";
    if (o.max_peers == 0 || o.max_peers > 65536) return "max peers must be 1..65536";
    if (o.publishes.size() > max_published_prefixes) return "at most 16 published prefixes";
    for (const auto& p : o.publishes)
        if (p.empty() || p.size() > max_topic_len) return "a published prefix must be 1..max_topic_len bytes";
    if (o.max_rpc_size == 0 || o.max_rpc_size > 256u * 1024 * 1024)
        return "max rpc size must be 1 B..256 MiB";
    if (!o.mesh_secret.empty() && o.mesh_secret.size() < protocol::min_mesh_secret_size)
        return "mesh secret must be at least 16 bytes";
    if (o.secret_key.empty()) {
        if (!o.allowed_keys.empty() || !o.allow_dir.empty())
            return "allowed keys need a secret key of this node's own";
        // Without CURVE a HELLO or a PEERS entry would still let anyone in: signed beacons
        // alone would promise what they cannot keep.
        if (!o.mesh_secret.empty()) return "a mesh secret needs a secret key (a secured mesh)";
    } else {
        if (!zmq_has("curve")) return "this libzmq has no CURVE support";
        if (!decode_key(o.secret_key)) return "secret key is not a Z85 CURVE key (40 characters)";
        for (const auto& k : o.allowed_keys)
            if (!decode_key(k)) return "allowed key '" + k + "' is not a Z85 CURVE key";
        if (o.allowed_keys.empty() && o.allow_dir.empty())
            return "a secured node needs allowed keys or an allow directory";
        if (o.mesh_secret.empty()) return "a secured mesh needs a mesh secret to sign its beacons";
        // Gossip datagrams are neither sealed nor signed yet: in a secured mesh they would let
        // anyone outside it learn its members and say who is dead.
        if (o.gossip) return "membership by gossip is not yet available in a secured mesh";
    }
    return {};
}

}  // namespace zmesh
