// SPDX-License-Identifier: MPL-2.0
// consumer_group: dispatch, acknowledgement, redelivery and dead letters of one consumer.
#include "consumer_group.hpp"

#include <algorithm>

namespace zmesh::detail::streams {

consumer_group::consumer_group(group_config config, std::uint64_t acked)
    : config_(std::move(config)), floor_(acked), next_new_(acked + 1) {
    if (config_.backoff.empty()) config_.backoff.push_back(std::chrono::milliseconds(0));
    config_.max_deliveries = std::max<std::uint32_t>(config_.max_deliveries, 1);
    config_.max_in_flight = std::max<std::uint32_t>(config_.max_in_flight, 1);
    if (config_.ordered_by_key) order_.emplace(config_.max_held_back);
}

void consumer_group::member_joined(const member_id& m) { members_.emplace(m, 0); }

void consumer_group::member_left(const member_id& m, clock::time_point now) {
    if (members_.erase(m) == 0) return;
    std::vector<std::uint64_t> theirs;
    for (const auto& [seq, f] : in_flight_)
        if (f.member == m) theirs.push_back(seq);
    for (const auto seq : theirs) {
        in_flight_.erase(seq);
        come_back(seq, now, "its consumer left");
    }
}

std::size_t consumer_group::in_flight(const member_id& m) const {
    const auto it = members_.find(m);
    return it == members_.end() ? 0 : it->second;
}

consumer_group::flight* consumer_group::held(const member_id& m, std::uint64_t seq, std::uint32_t attempt,
                                              verdict& why) {
    const auto it = in_flight_.find(seq);
    if (it != in_flight_.end() && it->second.member == m && it->second.attempt == attempt) {
        why = verdict::done;
        return &it->second;
    }
    // Handed out before (so this answers an attempt that is over), or never.
    const bool dispatched = seq < next_new_ && attempt >= 1;
    why = dispatched ? verdict::stale : verdict::unknown;
    if (dispatched) ++stale_acks_;
    return nullptr;
}

consumer_group::verdict consumer_group::ack(const member_id& m, std::uint64_t seq, std::uint32_t attempt) {
    verdict why;
    if (!held(m, seq, attempt, why)) return why;
    --members_[m];
    finish(seq);
    return verdict::done;
}

consumer_group::verdict consumer_group::nak(const member_id& m, std::uint64_t seq, std::uint32_t attempt,
                                            std::chrono::milliseconds delay, clock::time_point now, std::string error) {
    verdict why;
    if (!held(m, seq, attempt, why)) return why;
    --members_[m];
    in_flight_.erase(seq);
    come_back(seq, now + delay, error.empty() ? "nak" : std::move(error));
    return verdict::done;
}

consumer_group::verdict consumer_group::in_progress(const member_id& m, std::uint64_t seq, std::uint32_t attempt,
                                                    clock::time_point now) {
    verdict why;
    auto* f = held(m, seq, attempt, why);
    if (f) f->deadline = now + config_.ack_wait;
    return why;
}

consumer_group::verdict consumer_group::term(const member_id& m, std::uint64_t seq, std::uint32_t attempt) {
    return ack(m, seq, attempt);
}

void consumer_group::finish(std::uint64_t seq) {
    in_flight_.erase(seq);
    redeliver_.erase(seq);
    attempts_.erase(seq);
    if (order_) order_->release(seq);
    if (seq > floor_) done_above_.insert(seq);
    advance_floor();
}

void consumer_group::advance_floor() {
    while (true) {
        const auto n = floor_ + 1;
        if (done_above_.erase(n)) {
            floor_ = n;
            continue;
        }
        // Below the log's oldest record: gone, unless a member still holds it.
        if (n < first_kept_ && !in_flight_.contains(n)) {
            const auto held_below = in_flight_.lower_bound(n);
            floor_ = held_below != in_flight_.end() && held_below->first < first_kept_ ? held_below->first - 1
                                                                                       : first_kept_ - 1;
            continue;
        }
        return;
    }
}

void consumer_group::come_back(std::uint64_t seq, clock::time_point not_before, std::string error) {
    if (attempts_[seq] >= config_.max_deliveries) {
        dead_.push_back({seq, attempts_[seq], std::move(error)});
        finish(seq);
        return;
    }
    redeliver_[seq] = {not_before, std::move(error)};
}

std::chrono::milliseconds consumer_group::backoff_after(std::uint32_t attempt) const {
    const auto i = std::min<std::size_t>(attempt == 0 ? 0 : attempt - 1, config_.backoff.size() - 1);
    return config_.backoff[i];
}

void consumer_group::expire(clock::time_point now) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> late;
    for (const auto& [seq, f] : in_flight_)
        if (f.deadline <= now) late.emplace_back(seq, f.attempt);
    for (const auto& [seq, attempt] : late) {
        --members_[in_flight_[seq].member];
        in_flight_.erase(seq);
        come_back(seq, now + backoff_after(attempt), "ack wait passed");
    }
}

std::optional<consumer_group::member_id> consumer_group::least_loaded() {
    std::size_t load = config_.max_in_flight;
    for (const auto& [m, n] : members_) load = std::min(load, n);
    if (load == config_.max_in_flight) return std::nullopt;   // nobody has room
    // Among the least loaded, the next after the last one chosen, in id order: members that
    // ack at once are all at zero, and would otherwise all lose to the first.
    std::optional<member_id> after, first;
    for (const auto& [m, n] : members_) {
        if (n != load) continue;
        if (!first || m < *first) first = m;
        if (last_chosen_ && *last_chosen_ < m && (!after || m < *after)) after = m;
    }
    last_chosen_ = after ? after : first;
    return last_chosen_;
}

bool consumer_group::has_room() const {
    return std::any_of(members_.begin(), members_.end(), [&](const auto& m) { return m.second < config_.max_in_flight; });
}

std::vector<consumer_group::dispatch> consumer_group::next(std::uint64_t last_seq, clock::time_point now,
                                                           const key_reader& key_of) {
    std::vector<dispatch> out;
    const auto hand = [&](std::uint64_t seq, const member_id& m) {
        auto& attempts = attempts_[seq];
        if (attempts == 0 && seq <= handed_before_ && config_.max_deliveries > 1) attempts = 1;
        const auto attempt = ++attempts;
        in_flight_[seq] = {m, attempt, now + config_.ack_wait};
        ++members_[m];
        out.push_back({m, seq, attempt});
    };
    // Records that came back go first, lowest first, once due.
    for (auto it = redeliver_.begin(); it != redeliver_.end();) {
        if (it->second.not_before > now) {
            ++it;
            continue;
        }
        const auto m = least_loaded();
        if (!m) return out;
        const auto seq = it->first;
        it = redeliver_.erase(it);
        ++redeliveries_;
        hand(seq, *m);
    }
    // Records held back for their key, which is theirs now: before later records of any key.
    if (order_)
        for (auto& ready = order_->ready(); !ready.empty();) {
            const auto m = least_loaded();
            if (!m) return out;
            const auto seq = *ready.begin();
            ready.erase(ready.begin());
            hand(seq, *m);
        }
    next_new_ = std::max(next_new_, first_kept_);
    while (next_new_ <= last_seq && has_room()) {
        if (order_) {
            const auto admitted = order_->admit_new(next_new_, key_of ? key_of(next_new_) : std::string());
            if (admitted == key_order::admit::full) break;
            if (admitted == key_order::admit::held_back) {
                ++next_new_;
                continue;
            }
        }
        hand(next_new_++, *least_loaded());
    }
    return out;
}

void consumer_group::trimmed_before(std::uint64_t first_kept) {
    if (first_kept <= first_kept_) return;
    first_kept_ = first_kept;
    // What waits for another attempt and is gone cannot have one.
    for (auto it = redeliver_.begin(); it != redeliver_.end() && it->first < first_kept;) {
        attempts_.erase(it->first);
        if (order_) order_->release(it->first);
        it = redeliver_.erase(it);
    }
    if (order_) order_->trimmed_before(first_kept);
    done_above_.erase(done_above_.begin(), done_above_.lower_bound(first_kept));
    advance_floor();
}

std::optional<consumer_group::clock::time_point> consumer_group::next_deadline() const {
    std::optional<clock::time_point> first;
    const auto consider = [&](clock::time_point t) {
        if (!first || t < *first) first = t;
    };
    for (const auto& [seq, f] : in_flight_) consider(f.deadline);
    for (const auto& [seq, r] : redeliver_) consider(r.not_before);
    return first;
}

}  // namespace zmesh::detail::streams
