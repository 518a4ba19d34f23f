// SPDX-License-Identifier: MPL-2.0
// stats: counters a node keeps of what it did and of every bad input it dropped.
#pragma once

#include <cstdint>

namespace zmesh {

struct node_stats {
    // Beacons
    std::uint64_t beacons_sent = 0;
    std::uint64_t beacon_send_errors = 0;
    std::uint64_t beacons_received = 0;      // valid, from others on our mesh
    std::uint64_t beacons_invalid = 0;       // garbage, truncated, oversized, bad version
    std::uint64_t beacons_foreign_mesh = 0;  // valid, other mesh id: ignored
    std::uint64_t beacons_unauthenticated = 0;   // unsigned or forged, with a mesh secret
    std::uint64_t beacons_replayed = 0;      // signed but older than the last, or stale
    // Handshake and control frames (ROUTER)
    std::uint64_t hellos_foreign_mesh = 0;   // HELLO from another mesh: ignored
    std::uint64_t frames_invalid = 0;        // malformed control frames
    std::uint64_t frames_bad_version = 0;    // a protocol version we do not speak
    std::uint64_t frames_unknown_type = 0;   // our version, a message type we do not know
    std::uint64_t frames_unknown_sender = 0; // from no peer we have a handshake with
    std::uint64_t sends_dropped = 0;         // a peer's queue was full (EAGAIN), or libzmq
                                             // ended its link (failed security handshake)
    std::uint64_t link_disconnects = 0;      // a peer's link dropped: it went away (or the
                                             // network between us did)
    std::uint64_t handshake_timeouts = 0;    // dialled, never answered HELLO
    std::uint64_t pings_sent = 0;            // round-trip probes: to peers whose link is in
                                             // use, or whose round trip is not known yet
    std::uint64_t peers_refused = 0;         // not dialled: the table had max_peers already
    std::uint64_t endpoint_conflicts = 0;    // a newcomer named at a live member's endpoints
                                             // (beacon, PEERS, HELLO): not dialled
    std::uint64_t hellos_unverified = 0;     // a member's HELLO not quoting our link token:
                                             // forged, or it lost ours; nothing taken from it
    std::uint64_t leaves_unverified = 0;     // a LEAVE not quoting our link token: ignored
    std::uint64_t frames_wrong_link = 0;     // claiming a member's id on a connection that is
                                             // not its link (no link token): dropped
    // Inbound connections
    std::uint64_t subscriptions_refused = 0; // a connection to our PUB subscribed past a bound
                                             // (prefix size, prefixes or bytes): cut
    std::uint64_t connections_cut = 0;       // connections to our PUB or ROUTER we ended: past
                                             // a bound, or their key was revoked
    // Security (secured mesh only)
    std::uint64_t zap_denied = 0;            // connections refused: key not allowed, or plain
    std::uint64_t peers_not_allowed = 0;     // heard of, not dialled: no allowed key for the id
    std::uint64_t frames_key_mismatch = 0;   // sender id is not its connection key's: dropped
    // Events
    std::uint64_t events_out = 0;            // published (to the PUB; local delivery aside)
    std::uint64_t events_in = 0;             // received from peers and accepted
    std::uint64_t events_local = 0;          // own events delivered to own subscriptions
    std::uint64_t local_dropped = 0;         // own events not delivered: handlers too slow
    std::uint64_t events_gaps = 0;           // events missed, by per (sender, topic) seq jumps
    std::uint64_t events_invalid = 0;        // bad frames, header or payload: dropped
    std::uint64_t events_oversized = 0;      // payload over max_event_size: dropped
    std::uint64_t sub_disconnects = 0;       // a publisher's event connection dropped: it went
                                             // away, or sent a frame far over max_event_size
    std::uint64_t sub_revived = 0;           // of those, reconnected by us: libzmq would not
    std::uint64_t events_unknown_sender = 0; // from no peer we dialled: dropped
    std::uint64_t events_early_dropped = 0;  // from a peer still in handshake: held until it
                                             // joins; past 4096 or 4 MiB, or if it never
                                             // joins, dropped
    std::uint64_t publish_dropped = 0;       // publish() returned false: queue full or stopped
    std::uint64_t handler_errors = 0;        // a handler threw (decode_error or other)
    std::uint64_t receive_paused = 0;        // times the SUB paused for slow handlers
    // RPC, as a caller
    std::uint64_t rpc_calls = 0;             // calls started
    std::uint64_t rpc_ok = 0;                // answered with a result
    std::uint64_t rpc_remote_errors = 0;     // answered with an error
    std::uint64_t rpc_timeouts = 0;
    std::uint64_t rpc_peer_lost = 0;
    std::uint64_t rpc_no_provider = 0;
    std::uint64_t rpc_stray_replies = 0;     // for no pending call (late, or not ours)
    // RPC, as a server
    std::uint64_t rpc_served = 0;            // requests a handler ran for
    std::uint64_t rpc_unknown_method = 0;
    std::uint64_t rpc_bad_requests = 0;      // malformed header or arguments
    std::uint64_t rpc_busy = 0;              // refused: queue full
    std::uint64_t rpc_expired = 0;           // deadline passed while queued: dropped
    std::uint64_t rpc_replies_dropped = 0;   // caller gone or its queue full
    // Membership
    std::uint64_t peers_joined = 0;
    std::uint64_t peers_left = 0;
};

}  // namespace zmesh
