// SPDX-License-Identifier: MPL-2.0
// options: everything a node can be configured with, and its defaults.
#pragma once

#include <zmesh/limits.hpp>
#include <zmesh/liveness.hpp>
#include <zmesh/log.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace zmesh {

using std::chrono::milliseconds;

// What a stored stream message survives (<zmesh/streams.hpp>).
enum class durability : std::uint8_t {
    os,      // a crash of the process (kill -9): the OS has it
    fsync,   // a crash of the OS or a power loss: the disk has it
};

struct options {
    std::string name;                  // "" = "<hostname>-<pid>"; 1..64 bytes
    std::string mesh = "default";      // nodes only talk within one mesh id; 1..64 bytes

    // Discovery
    std::uint16_t beacon_port = default_beacon_port;
    milliseconds beacon_interval{1000};   // 0 = no beacons (seeds only)
    std::string interface;             // "" or "auto": loopback + one LAN NIC; else NAME or IP.
                                       // Env ZMESH_INTERFACE sets the default in the tools.
    std::string advertise;             // host peers should dial; "" = as they saw us
    std::vector<std::string> seeds;    // "tcp://host:port" ROUTER endpoints to ask for the mesh;
                                       // secured: "KEY@tcp://host:port", KEY the seed's Z85 key
    milliseconds seed_interval{1000};  // how often seeds are (re)contacted
    std::size_t max_peers = 1024;      // peers (members and observers) in the table at once;
                                       // past it new ones are not dialled (peers_refused)
    // Membership by gossip (PROTOCOL.md §16, docs/scale.md): members probe each other over
    // UDP at their ROUTER's port number, spread who joined and who died, and exchange their
    // tables (MEMBERS) instead of PEERS; links then carry no libzmq heartbeats, so the
    // mesh's idle cost grows with its members, not with its pairs. Not yet for a secured
    // mesh (its datagrams are not sealed yet).
    bool gossip = false;
    // With gossip, a member links to every member while it knows fewer than this; past it,
    // the members gossip finds are listed without a link, and a link is opened to one when
    // this node calls it or may take its events (it publishes under a prefix this node
    // subscribes to: members list the prefixes of the topics they published in their meta).
    // Small meshes thus keep a link to everyone, and what it gives: a kill -9 seen at once.
    std::size_t link_everyone_below = 32;
    // Past that, a link to a member that carried nothing for this long (no call, reply,
    // stream frame or control message either way) is closed; the member stays, judged by
    // gossip, and is linked again when next needed. 0: links stay open.
    milliseconds idle_link{60'000};
    // Topic prefixes this node will publish under, listed in its meta from the start (each
    // 1..max_topic_len bytes, at most 16). Past link_everyone_below, a subscriber links only
    // members that list a prefix it takes, and a topic's prefix (up to its first '.') is
    // listed at its first event (or when wait_for_subscribers names it): the events sent
    // before the news reaches a subscriber miss it, unless declared here.
    std::vector<std::string> publishes;

    // Sockets
    std::string bind = "*";            // host the PUB and ROUTER bind on
    std::uint16_t pub_port = 0;        // 0 = any free port
    std::uint16_t router_port = 0;     // 0 = any free port; fix it on a node others seed from

    // Liveness: when a silent or disconnected peer is evasive, and when it has left.
    liveness_config liveness;

    // Events. A slow subscriber never blocks a publisher: past these bounds events are
    // dropped (and show up as gaps at the subscriber), so memory stays bounded.
    int send_hwm = 10000;              // events queued at our PUB per subscriber
    int receive_hwm = 10000;           // events queued at our SUB per publisher
    std::size_t receive_queue = 10000; // events waiting for handlers; past it the SUB pauses
    std::size_t publish_queue = 100000;   // per publishing thread; past it publish() is false
    std::size_t max_event_size = default_max_event_size;   // payload bytes, both ways

    // RPC
    std::size_t rpc_workers = 4;       // threads running handlers
    std::size_t rpc_queue = 10000;     // requests waiting for a worker; past it: "busy"
    std::size_t max_rpc_size = 1024 * 1024;   // argument / result bytes, both ways
    int peer_queue = 100000;           // messages (calls, replies, control) queued to one
                                       // peer; past it a call fails at once as peer_lost
    bool rpc_expose_errors = false;    // a handler's exception text goes to its callers; else
                                       // they get "internal error" and this node logs the text

    // Durable streams (<zmesh/streams.hpp>). "" = none: declare_stream and publish_stored
    // are refused (consuming needs no directory). Created when absent; it holds the streams'
    // log and the node's id, so a node restarted on it is the same publisher to its
    // consumers. One running node per directory.
    std::string data_dir;
    durability stream_durability = durability::os;
    // Other members may change this node's streams through the reserved methods of
    // PROTOCOL.md §15 (declare, remove, publish into, requeue dead letters); reading them
    // (list, dead letters) is always answered. Off by default: a plain mesh is open to its
    // network, and anyone who joins it could otherwise delete this node's stored messages.
    bool stream_admin = false;

    // Metrics: "HOST:PORT" serves node::metrics() at http://HOST:PORT/metrics for Prometheus
    // (PORT 0: any free one, see node::metrics_port()); "" = not served.
    std::string metrics_endpoint;

    // Security (<zmesh/keys.hpp>). No secret key: a plain mesh, for local development. With one,
    // every connection is CURVE-encrypted, only allowed keys get in, and the node id is the
    // start of the public key. A secured node and a plain one never talk.
    std::string secret_key;                  // Z85 CURVE secret key (read_secret_key)
    std::vector<std::string> allowed_keys;   // Z85 public keys of the members
    std::string allow_dir;                   // and/or a directory of *.pub, re-read on change
    std::string mesh_secret;                 // >= 16 bytes shared by the members: beacons are
                                             // signed with it, and others dropped (required
                                             // when secured, refused when not; read_mesh_secret)

    milliseconds stats_poll{0};        // ask members for their counters this often (0: never)
    bool observer = false;             // a passive watcher (the monitor): not a mesh member

    log_level log = log_level::warn;
    log_sink log_to;                   // default: one line per record on stderr
};

// Returns: "" when `o` is valid, else a one-line explanation (the node constructor throws it).
std::string validate(const options& o);

}  // namespace zmesh
