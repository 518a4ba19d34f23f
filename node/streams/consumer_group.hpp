// SPDX-License-Identifier: MPL-2.0
// consumer_group: who gets which record of a stream, for one named consumer, and what becomes
// of it — the publisher's side of a durable consumer (one member) or a work queue (several
// members sharing the name). Each record goes to one live member at a time, the least loaded
// with room; it comes back for another attempt on a nak (after its delay), when its ack wait
// passes without an ack or an in_progress, or at once when its member leaves; after
// max_deliveries attempts it goes to the dead letters instead. Acks name the attempt they
// answer, so a late ack from a member that lost the record to a redelivery is refused, not
// credited. The position (every record up to it acked) only moves forward. A group ordered
// by key hands a key's records one at a time, in sequence order (key_order): a record waits
// while an earlier one of its key is unsettled or waiting for another attempt.
//
// Pure state: time comes in as an argument, decisions go out as values. It never reads the
// log; the caller tells it how far the stream goes and reads the records it dispatches.
#pragma once

#include "key_order.hpp"
#include "protocol/node_id.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace zmesh::detail::streams {

struct group_config {
    std::chrono::milliseconds ack_wait{30'000};
    std::uint32_t max_deliveries = 5;   // attempts, the first included; then a dead letter
    // The delay before attempt n+1 after an ack wait ran out on attempt n (the last entry
    // repeats); a nak names its own.
    std::vector<std::chrono::milliseconds> backoff{std::chrono::milliseconds(0)};
    std::uint32_t max_in_flight = 256;   // unacked records per member
    // Records of one key (record::key, "" none) go to one member at a time, in order.
    bool ordered_by_key = false;
    // Ordered by key: records passed over for their key at most (the publisher's bound, not
    // the consumer's); beyond it new records wait in the log.
    std::size_t max_held_back = 65'536;
};

class consumer_group {
public:
    using clock = std::chrono::steady_clock;
    using member_id = protocol::node_id;

    // A record handed to a member for its `attempt`-th time (1: the first).
    struct dispatch {
        member_id member;
        std::uint64_t seq = 0;
        std::uint32_t attempt = 0;
    };
    struct dead_letter {
        std::uint64_t seq = 0;
        std::uint32_t attempts = 0;
        std::string last_error;
    };
    enum class verdict { done, stale, unknown };
    // A record's key, read from the log (ordered groups only; "" for a record that is gone).
    using key_reader = std::function<std::string(std::uint64_t seq)>;

    // Starts after `acked` (every record up to it is done).
    consumer_group(group_config config, std::uint64_t acked);

    const group_config& config() const noexcept { return config_; }
    // Every record up to it is acked, termed or dead: what the log keeps for this consumer.
    std::uint64_t position() const noexcept { return floor_; }

    void member_joined(const member_id& m);
    // Records up to `seq` may have been handed out before this group was made, by a run of
    // the publisher that kept only the position: their next attempt counts as the second, so
    // that no member is handed one of them again as new.
    void handed_before(std::uint64_t seq) { handed_before_ = seq; }
    // Its records come back at once, for other members (a new attempt each).
    void member_left(const member_id& m, clock::time_point now);
    bool has_member(const member_id& m) const { return members_.contains(m); }
    std::size_t members() const noexcept { return members_.size(); }

    // The member processed the record: it is done. Returns: done, stale (an attempt that was
    // superseded: not credited) or unknown (not in flight, or not this member's).
    verdict ack(const member_id& m, std::uint64_t seq, std::uint32_t attempt);
    // The member could not process it: another attempt after `delay`.
    verdict nak(const member_id& m, std::uint64_t seq, std::uint32_t attempt, std::chrono::milliseconds delay,
                clock::time_point now, std::string error = {});
    // Still working on it: its ack wait starts again.
    verdict in_progress(const member_id& m, std::uint64_t seq, std::uint32_t attempt, clock::time_point now);
    // Never to be delivered again (not a dead letter).
    verdict term(const member_id& m, std::uint64_t seq, std::uint32_t attempt);

    // Records whose ack wait ran out come back (after their backoff).
    void expire(clock::time_point now);
    // Returns: what to hand to whom now, the stream going up to `last_seq`, records that came
    // back first (lowest sequence first), then, ordered by key, records whose key came free
    // (lowest first), then new ones in order; each member up to its room. `key_of` is asked
    // for the key of each new record of an ordered group (none: every key is "").
    std::vector<dispatch> next(std::uint64_t last_seq, clock::time_point now, const key_reader& key_of = {});
    // Returns: the records that ran out of attempts since the last call, for the dead
    // letters; they count as done.
    std::vector<dead_letter> take_dead_letters() { return std::exchange(dead_, {}); }
    // The stream's records before `first_kept` are gone (retention): those not in flight are
    // skipped.
    void trimmed_before(std::uint64_t first_kept);

    // When the next ack wait or delayed redelivery falls due, if any.
    std::optional<clock::time_point> next_deadline() const;
    std::size_t in_flight() const noexcept { return in_flight_.size(); }
    std::size_t in_flight(const member_id& m) const;
    std::size_t waiting_redelivery() const noexcept { return redeliver_.size(); }
    std::uint64_t stale_acks() const noexcept { return stale_acks_; }
    std::uint64_t redeliveries() const noexcept { return redeliveries_; }
    // Ordered by key: keys held by unsettled records, and records held back behind them.
    std::size_t keys_held() const noexcept { return order_ ? order_->keys() : 0; }
    std::size_t held_back() const noexcept { return order_ ? order_->held_back() : 0; }

private:
    struct flight {
        member_id member;
        std::uint32_t attempt = 0;
        clock::time_point deadline;
    };
    struct retry {
        clock::time_point not_before;
        std::string last_error;
    };
    // Returns: the record's flight when `m` holds it at `attempt`; counts a stale attempt.
    flight* held(const member_id& m, std::uint64_t seq, std::uint32_t attempt, verdict& why);
    void finish(std::uint64_t seq);
    void come_back(std::uint64_t seq, clock::time_point not_before, std::string error);
    std::chrono::milliseconds backoff_after(std::uint32_t attempt) const;
    // Returns: the member with the fewest records in flight that has room, if any; ties
    // taken in turn.
    std::optional<member_id> least_loaded();
    bool has_room() const;
    void advance_floor();

    group_config config_;
    std::uint64_t floor_ = 0;              // all up to it done
    std::set<std::uint64_t> done_above_;   // done, above the floor (acks come out of order)
    std::uint64_t next_new_ = 0;           // the next record never dispatched
    std::map<std::uint64_t, flight> in_flight_;
    std::map<std::uint64_t, retry> redeliver_;
    std::unordered_map<std::uint64_t, std::uint32_t> attempts_;   // of records not done
    std::unordered_map<member_id, std::size_t> members_;          // -> records in flight
    std::uint64_t first_kept_ = 0;         // the log's oldest record (retention)
    std::uint64_t handed_before_ = 0;      // records up to it may have had an attempt already
    std::vector<dead_letter> dead_;
    std::uint64_t stale_acks_ = 0, redeliveries_ = 0;
    std::optional<member_id> last_chosen_;
    std::optional<key_order> order_;   // ordered by key only
};

}  // namespace zmesh::detail::streams
