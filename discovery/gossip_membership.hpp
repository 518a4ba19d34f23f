// SPDX-License-Identifier: MPL-2.0
// gossip_membership: who is in the mesh, known by gossip rather than by a link to everyone
// (see gossip.hpp for the protocol). Each member's load is constant in the mesh's size: one
// probe per period, a few indirect probes when it goes unanswered, and news riding on those
// messages. Pure logic: no sockets, time comes in as an argument, the messages to send and
// the changes seen come out as values, and the randomness is seeded by the caller — so a
// thousand of them run in one test against a simulated network.
//
//   alive --no ack, direct or indirect--> suspect --timeout--> dead --tombstone_for--> erased
//     ^                                      |
//     \--- it refutes (a later incarnation) -/       left: it said so (LEAVE); erased alike
//
// A member that hears itself suspected raises its incarnation and says it is alive; one
// that keeps missing acks assumes the fault may be its own (local health) and slows down
// before it accuses others.
#pragma once

#include "gossip.hpp"
#include "gossip_queue.hpp"

#include <cmath>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

namespace zmesh::discovery::gossip {

// A count whose every unit fades away exponentially, over `memory`.
class fading_count {
public:
    void add(clock::time_point now, std::chrono::duration<double> memory) {
        value_ = at(now, memory) + 1.0;
        since_ = now;
    }
    double at(clock::time_point now, std::chrono::duration<double> memory) const {
        return value_ == 0 ? 0 : value_ * std::exp(-std::chrono::duration<double>(now - since_) / memory);
    }

private:
    double value_ = 0;
    clock::time_point since_{};
};

class gossip_membership {
public:
    // `incarnation`: this member's first. A member that restarts under the same id must
    // start above what it had (the caller uses the wall clock), or its tombstone wins.
    // Throws std::length_error for a meta over protocol::max_gossip_meta (as set_meta).
    gossip_membership(node_id self, std::string meta, std::uint32_t incarnation, config cfg, std::uint64_t seed);

    // A member heard of outside gossip (its beacon, a seed, a push-pull): applied as news.
    void learn(const update& u, clock::time_point now);
    // What a push-pull brought: everything the other member knows.
    void merge(const std::vector<update>& all, clock::time_point now);
    // Returns: everything this member knows, itself included (for a push-pull).
    std::vector<update> snapshot() const;
    // Returns: what this member says of itself now.
    const update& self() const noexcept { return self_; }

    void on_message(const node_id& from, const message& m, clock::time_point now);
    // Strong evidence from elsewhere (its host refused a connection): suspected at once,
    // without waiting for its turn to be probed.
    void on_unreachable(const node_id& id, clock::time_point now);

    // This member leaves: the news goes out with the next messages.
    void leave();
    // This member's own meta changed: a new incarnation carries it.
    void set_meta(std::string meta);

    // Probes, timeouts and expiries that are due.
    void tick(clock::time_point now);
    clock::time_point next_deadline() const;
    // Returns: the member to push-pull with now, if one is due (one at random, every
    // push_pull_interval).
    std::optional<node_id> push_pull_due(clock::time_point now);

    // Returns and clears what to send, and what changed.
    std::vector<outgoing> take_outgoing();
    std::vector<change> take_changes();

    // Returns: the member's state as known here, if known (dead and left included until
    // their tombstones expire).
    std::optional<update> find(const node_id& id) const;
    // Returns: members alive or suspect, this one excluded.
    std::size_t live_members() const noexcept { return live_; }
    // Lifeguard's local health: 0 healthy; each unit stretches probe periods and timeouts.
    int health() const noexcept { return health_; }
    std::uint32_t incarnation() const noexcept { return self_.incarnation; }
    std::size_t refutations() const noexcept { return refutations_; }
    std::size_t suspicions() const noexcept { return suspicions_; }

private:
    struct member {
        update state;
        clock::time_point since{};
        // suspect: when it began and who has confirmed it since (bounded: indirect_probes)
        std::set<node_id> confirmed_by;
        clock::time_point suspect_deadline{};
    };
    struct probe {
        node_id target;
        std::uint32_t seq = 0;
        clock::time_point indirect_at{}, period_end{};
        bool acked = false, indirect_sent = false;
        std::size_t nacks_expected = 0, nacks = 0;
    };
    struct relay {
        node_id origin;
        std::uint32_t origin_seq = 0;
        clock::time_point nack_at{};
    };

    // Applies news. Returns: whether it was taken (and is passed on).
    bool apply(const update& u, clock::time_point now);
    void refute(std::uint32_t heard);
    void suspect(member& m, const node_id& by, clock::time_point now);
    clock::duration suspicion_timeout(std::size_t confirmations, clock::time_point now) const;
    void mark(member& m, status s, clock::time_point now);
    void send(const node_id& to, kind type, std::uint32_t seq, const node_id& target);
    void start_probe(clock::time_point now);
    void end_probe(clock::time_point now);
    std::optional<node_id> next_target();
    std::vector<node_id> random_live(std::size_t n, const node_id& except);
    clock::duration scaled(clock::duration d) const { return d * (1 + health_); }
    void add_health(int delta);
    // A suspicion or a tombstone ends at `t`: the next scan of the table is due by then.
    void expires_at(clock::time_point t) { next_expiry_ = std::min(next_expiry_, t); }
    void expire(clock::time_point now);

    update self_;
    config cfg_;
    std::mt19937_64 rng_;
    std::unordered_map<node_id, member> members_;
    std::size_t live_ = 0;
    gossip_queue news_;
    std::vector<outgoing> outgoing_;
    std::vector<change> changes_;
    std::optional<probe> probe_;
    clock::time_point next_probe_{};
    std::vector<node_id> probe_order_;
    std::size_t probe_next_ = 0;
    std::unordered_map<std::uint32_t, relay> relays_;   // by the seq of our own ping
    std::uint32_t next_seq_ = 1;
    clock::time_point next_push_pull_{};
    // The earliest suspicion or tombstone end: the table is scanned only then, so a tick
    // with nothing due costs the same in any size of mesh.
    clock::time_point next_expiry_ = clock::time_point::max();
    bool started_ = false;
    int health_ = 0;
    // Suspects and the dead seen coming back alive (a later incarnation): false alarms.
    fading_count false_alarms_;
    std::size_t refutations_ = 0, suspicions_ = 0;
};

}  // namespace zmesh::discovery::gossip
