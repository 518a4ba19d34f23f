// SPDX-License-Identifier: MPL-2.0
// stats: counters a node keeps of what it did and of every bad input it dropped.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Every counter of node_stats, once: X(name, what it counts). The struct's fields, the tools'
// JSON, the STATS message (PROTOCOL.md §6.9) and the monitor are all made from this list, so
// a counter added here is reported everywhere; its name is the same in each of them.
// clang-format off
#define ZMESH_NODE_COUNTERS(X) \
    /* Beacons */ \
    X(beacons_sent, "beacons sent") \
    X(beacon_send_errors, "beacons the network refused to send") \
    X(beacons_received, "valid beacons from others on our mesh") \
    X(beacons_invalid, "beacons dropped: garbage, truncated, oversized or a bad version") \
    X(beacons_foreign_mesh, "valid beacons of another mesh: ignored") \
    X(beacons_unauthenticated, "beacons dropped with a mesh secret: unsigned or forged") \
    X(beacons_replayed, "signed beacons dropped: older than the sender's last, or stale") \
    X(beacon_questions, "asking beacons of observers on our mesh: never dialled") \
    X(beacon_answers, "beacons sent sooner to answer them") \
    /* Handshake and control frames (ROUTER) */ \
    X(hellos_foreign_mesh, "HELLOs of another mesh: ignored") \
    X(frames_invalid, "malformed control frames: dropped") \
    X(frames_bad_version, "frames of a protocol version we do not speak: dropped") \
    X(frames_unknown_type, "frames of our version with a message type we do not know: dropped") \
    X(frames_unknown_sender, "frames from no peer we have a handshake with: dropped") \
    X(sends_dropped, "messages not sent to a peer: its queue was full, or libzmq ended its link") \
    X(link_disconnects, "links to peers that dropped: the peer went away, or the network did") \
    X(handshake_timeouts, "peers dialled that never answered HELLO") \
    X(handshakes_failed, "ZMTP handshakes of connections we dialled that failed, any cause") \
    X(handshakes_failed_timeout, "of those, timed out") \
    X(handshakes_failed_closed, "of those, the connection closed, reset or failed mid-handshake") \
    X(handshakes_failed_protocol, "of those, a ZMTP protocol error (secured dialling plain, say)") \
    X(handshakes_failed_auth, "of those, refused by the peer's authentication (ZAP status 300, 400, 500)") \
    X(pings_sent, "round-trip probes: to peers whose link is in use, or whose round trip is unknown") \
    X(peers_refused, "peers not dialled: the table had max_peers already") \
    X(endpoint_conflicts, "newcomers named at a live member's endpoints (beacon, PEERS, HELLO): not dialled") \
    X(hellos_unverified, "members' HELLOs not quoting our link token (forged, or it lost ours): nothing taken") \
    X(leaves_unverified, "LEAVEs not quoting our link token (forged, or from an older node): ignored") \
    X(frames_wrong_link, "frames claiming a member's id on a connection that is not its link: dropped") \
    /* Membership by gossip (options::gossip) */ \
    X(gossip_sent, "gossip datagrams sent (probes, acks, relays)") \
    X(gossip_received, "gossip datagrams received of our mesh and well formed") \
    X(gossip_invalid, "gossip datagrams malformed or of another mesh, and alive news of nowhere reachable: dropped") \
    X(gossip_unsent, "gossip datagrams not sent: no address known for the member, or the kernel refused") \
    X(links_on_demand, "links opened to members known by gossip alone: to call them, send them a stream frame or take events") \
    X(links_idle_closed, "links to members closed after options::idle_link with nothing on them (the members stay)") \
    /* Inbound connections */ \
    X(subscriptions_refused, "subscriptions to our PUB past a bound (prefix size, count or bytes): connection cut") \
    X(connections_cut, "connections to our PUB or ROUTER we ended: past a bound, or their key was revoked") \
    /* Security (secured mesh only) */ \
    X(zap_denied, "connections refused: key not allowed, or not CURVE") \
    X(peers_not_allowed, "peers heard of but not dialled: no allowed key for the id") \
    X(frames_key_mismatch, "frames whose sender id is not its connection key's: dropped") \
    /* Events */ \
    X(events_out, "events published (to the PUB; local delivery aside)") \
    X(events_in, "events received from peers and accepted") \
    X(events_local, "own events delivered to own subscriptions") \
    X(local_dropped, "own events not delivered: handlers too slow") \
    X(events_gaps, "events missed, by per (sender, topic) sequence jumps") \
    X(events_invalid, "events with a bad frame, header or payload: dropped") \
    X(events_oversized, "events with a payload over max_event_size: dropped") \
    X(sub_disconnects, "event connections that dropped: the publisher went, or sent a frame far too large") \
    X(sub_revived, "of those, dialled again by us (libzmq would not)") \
    X(events_unknown_sender, "events from no peer we dialled: dropped") \
    X(events_early_dropped, "events from a peer in handshake dropped: too many held, or it never joined") \
    X(publish_dropped, "publishes refused: queue full or node stopped") \
    X(handler_errors, "handlers that threw (decode_error or other)") \
    X(receive_paused, "times the SUB paused for slow handlers") \
    /* RPC, as a caller */ \
    X(rpc_calls, "calls started") \
    X(rpc_ok, "calls answered with a result") \
    X(rpc_remote_errors, "calls answered with an error") \
    X(rpc_timeouts, "calls that timed out") \
    X(rpc_peer_lost, "calls failed: the peer left before answering") \
    X(rpc_no_provider, "calls failed: no peer serves the method") \
    X(rpc_stray_replies, "replies to no pending call (late, or not ours): dropped") \
    /* RPC, as a server */ \
    X(rpc_served, "requests a handler ran for") \
    X(rpc_unknown_method, "requests for a method we do not serve") \
    X(rpc_bad_requests, "requests with a malformed header or arguments") \
    X(rpc_busy, "requests refused: queue full") \
    X(rpc_expired, "requests whose deadline passed while queued: dropped") \
    X(rpc_replies_dropped, "replies not sent: caller gone or its queue full") \
    /* Durable streams */ \
    X(stream_stored, "events stored in this node's streams") \
    X(stream_store_failures, "operations on this node's stream log that failed (disk, database): logged") \
    X(stream_consumes_refused, "consumer names refused: this node serves as many as it takes") \
    X(stream_stale_settles, "settles this node's streams refused: an attempt superseded, or not in flight") \
    X(stream_delivered, "stream messages handed to this node's consumers, redeliveries included") \
    X(stream_redelivered, "of those, redeliveries: another attempt at a message") \
    X(stream_duplicates_dropped, "stream messages not handed again: already handed at that attempt") \
    X(stream_overflow_dropped, "stream messages beyond a consumer's max_in_flight: dropped, redelivered later") \
    X(stream_settles_sent, "settles this node's consumers sent") \
    X(stream_settles_stale, "settles of a message not held (settled already, or redelivered): not sent") \
    X(stream_frames_invalid, "stream frames that did not decode, or came for no consumer") \
    X(stream_admin_refused, "stream administration requests answered with an error: bad arguments, not allowed, a bound") \
    /* Membership */ \
    X(peers_joined, "peers that joined") \
    X(peers_left, "peers that left")
// clang-format on

namespace zmesh {

// A node's counters (node::stats()): one field per entry of ZMESH_NODE_COUNTERS, each 0 at
// start and only ever growing.
struct node_stats {
#define ZMESH_COUNTER_FIELD(name, meaning) std::uint64_t name = 0;
    ZMESH_NODE_COUNTERS(ZMESH_COUNTER_FIELD)
#undef ZMESH_COUNTER_FIELD
};

// One counter of node_stats: its name, what it counts, and its field (`s.*field`).
struct node_counter {
    std::string_view name;
    std::string_view meaning;
    std::uint64_t node_stats::*field;
};

// Every counter, in the order of the list.
inline constexpr node_counter node_counters[] = {
#define ZMESH_COUNTER_ENTRY(name, meaning) {#name, meaning, &node_stats::name},
    ZMESH_NODE_COUNTERS(ZMESH_COUNTER_ENTRY)
#undef ZMESH_COUNTER_ENTRY
};

// A field added to node_stats by hand, outside the list, would be missing from every output.
static_assert(sizeof(node_stats) == std::size(node_counters) * sizeof(std::uint64_t),
              "every counter of node_stats is declared through ZMESH_NODE_COUNTERS");

// Returns: true when `name` is one of node_counters (for checking names at compile time).
constexpr bool is_node_counter(std::string_view name) {
    for (const auto& c : node_counters)
        if (c.name == name) return true;
    return false;
}

// Returns: every counter of `s` as (name, value), in the order of the list.
inline std::vector<std::pair<std::string, std::uint64_t>> counters_of(const node_stats& s) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    out.reserve(std::size(node_counters));
    for (const auto& c : node_counters) out.emplace_back(c.name, s.*c.field);
    return out;
}

}  // namespace zmesh
