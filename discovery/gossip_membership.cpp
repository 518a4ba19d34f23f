// SPDX-License-Identifier: MPL-2.0
#include "gossip_membership.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace zmesh::discovery::gossip {

bool overrides(const update& incoming, const update& known) {
    if (incoming.incarnation != known.incarnation) return incoming.incarnation > known.incarnation;
    const auto grave = [](status s) { return s == status::left ? 2 : static_cast<int>(s); };
    return grave(incoming.state) > grave(known.state);
}

gossip_membership::gossip_membership(node_id self, std::string meta, std::uint32_t incarnation, config cfg,
                                     std::uint64_t seed)
    : self_{self, incarnation, status::alive, {}, std::move(meta)}, cfg_(cfg), rng_(seed) {
    if (self_.meta.size() > protocol::max_gossip_meta) throw std::length_error("gossip meta over its bound");
    news_.push(self_);   // the first messages say who sends them
}

void gossip_membership::learn(const update& u, clock::time_point now) { apply(u, now); }

void gossip_membership::merge(const std::vector<update>& all, clock::time_point now) {
    for (const auto& u : all) apply(u, now);
}

std::vector<update> gossip_membership::snapshot() const {
    std::vector<update> all{self_};
    all.reserve(members_.size() + 1);
    for (const auto& [id, m] : members_) {
        all.push_back(m.state);
        if (m.state.state != status::alive) all.back().meta.clear();   // only alive carries it
    }
    return all;
}

bool gossip_membership::apply(const update& u, clock::time_point now) {
    if (u.id == self_.id) {
        // Only this member raises its own incarnation: any other news of it that is not
        // older is an accusation to answer, and an alive later than ours is a past life of
        // this id (a restart that did not start above it) to rise above.
        if (self_.state != status::alive || u.incarnation < self_.incarnation) return false;
        if (u.state != status::alive) {
            refute(u.incarnation);
        } else if (u.incarnation > self_.incarnation) {
            self_.incarnation = u.incarnation + 1;
            news_.push(self_);
        }
        return false;
    }
    auto it = members_.find(u.id);
    if (it == members_.end()) {
        // News of a stranger's trouble tells nothing to act on; its alive does.
        if (u.state != status::alive || members_.size() >= cfg_.max_members) return false;
        member m;
        m.state = u;
        m.since = now;
        members_.emplace(u.id, std::move(m));
        ++live_;
        // Probed in this round, at a random place in it, not only after the next shuffle
        // (unless churn has filled the round with the departed: a new round then).
        if (probe_order_.size() > 2 * members_.size() + 16) probe_next_ = probe_order_.size();
        std::uniform_int_distribution<std::size_t> at(probe_next_, probe_order_.size());
        probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(at(rng_)), u.id);
        changes_.push_back({u.id, status::alive, u.meta});
        news_.push(u, false);
        return true;
    }
    member& m = it->second;
    if (u.state == status::suspect && m.state.state == status::suspect && u.incarnation == m.state.incarnation) {
        // Another member confirms the suspicion (or this one, by a probe of its own that went
        // unanswered): each distinct one shortens the wait.
        if (m.confirmed_by.contains(u.by) || m.confirmed_by.size() > cfg_.indirect_probes)
            return false;
        m.confirmed_by.insert(u.by);
        m.suspect_deadline = m.since + suspicion_timeout(m.confirmed_by.size() - 1, now);
        expires_at(m.suspect_deadline);
        news_.push(u);
        return true;
    }
    if (!overrides(u, m.state)) return false;
    const auto before = m.state;
    if ((before.state == status::suspect || before.state == status::dead) && u.state == status::alive)
        false_alarms_.add(now, cfg_.false_alarm_memory);
    m.state = u;
    if (u.state != status::alive) m.state.meta = before.meta;   // only alive carries it
    m.since = now;
    if (u.state == status::suspect) {
        ++suspicions_;
        m.confirmed_by = {u.by};
        m.suspect_deadline = now + suspicion_timeout(0, now);
        expires_at(m.suspect_deadline);
    } else {
        m.confirmed_by.clear();
        if (!is_live(u.state)) expires_at(now + cfg_.tombstone_for);
    }
    live_ = live_ - (is_live(before.state) ? 1 : 0) + (is_live(u.state) ? 1 : 0);
    if (before.state != u.state || m.state.meta != before.meta) changes_.push_back({u.id, u.state, m.state.meta});
    news_.push(u);
    return true;
}

void gossip_membership::refute(std::uint32_t heard) {
    self_.incarnation = std::max(self_.incarnation, heard) + 1;
    news_.push(self_);
    ++refutations_;
    // Being suspected is a sign this member may be the slow one (Lifeguard).
    add_health(1);
}

clock::duration gossip_membership::suspicion_timeout(std::size_t confirmations, clock::time_point now) const {
    const double members = static_cast<double>(live_ + 1);
    const auto min = std::chrono::duration<double>(cfg_.probe_interval) * cfg_.suspicion_min_mult *
                     std::max(1.0, std::log10(members));
    const auto max = min * std::max(1.0, cfg_.suspicion_max_mult);
    const double k = static_cast<double>(cfg_.indirect_probes);
    const double part = k < 1 ? 1.0
                              : std::min(1.0, std::log(static_cast<double>(confirmations) + 1.0) / std::log(k + 1.0));
    // Stretched by this member's own health (its own probes went unanswered) and by the
    // suspicions and deaths it saw refuted lately: either says that answers come late
    // because members are slow (a loaded machine), not because they are dead.
    const double stretch =
        1.0 + health_ + std::min(static_cast<double>(cfg_.max_health), false_alarms_.at(now, cfg_.false_alarm_memory));
    return std::chrono::duration_cast<clock::duration>((max - (max - min) * part) * stretch);
}

void gossip_membership::on_message(const node_id& from, const message& m, clock::time_point now) {
    for (const auto& u : m.updates) apply(u, now);
    switch (m.type) {
    case kind::ping:
        if (m.target == self_.id) send(from, kind::ack, m.seq, self_.id);
        break;
    case kind::ping_req: {
        if (m.target == self_.id || relays_.size() >= cfg_.max_relays) break;
        const auto seq = next_seq_++;
        // The relay answers before the prober's period ends, so that its nack arrives in time.
        relays_[seq] = relay{from, m.seq, now + scaled(cfg_.probe_timeout)};
        send(m.target, kind::ping, seq, m.target);
        break;
    }
    case kind::ack:
        if (probe_ && m.seq == probe_->seq && (from == probe_->target || probe_->indirect_sent)) {
            probe_->acked = true;
        } else if (auto r = relays_.find(m.seq); r != relays_.end()) {
            const relay back = r->second;
            relays_.erase(r);
            send(back.origin, kind::ack, back.origin_seq, from);
        }
        break;
    case kind::nack:
        if (probe_ && m.seq == probe_->seq) ++probe_->nacks;
        break;
    }
}

void gossip_membership::on_unreachable(const node_id& id, clock::time_point now) {
    auto it = members_.find(id);
    if (it == members_.end() || it->second.state.state != status::alive) return;
    apply(update{id, it->second.state.incarnation, status::suspect, self_.id, {}}, now);
}

void gossip_membership::leave() {
    if (self_.state != status::alive) return;
    self_.state = status::left;
    self_.meta.clear();
    news_.push(self_);
    for (const auto& id : random_live(cfg_.indirect_probes, self_.id)) send(id, kind::ping, next_seq_++, id);
}

void gossip_membership::set_meta(std::string meta) {
    if (meta.size() > protocol::max_gossip_meta) throw std::length_error("gossip meta over its bound");
    self_.meta = std::move(meta);
    ++self_.incarnation;
    news_.push(self_);
}

void gossip_membership::tick(clock::time_point now) {
    if (!started_) {
        // Members started together must not probe in step.
        started_ = true;
        std::uniform_int_distribution<clock::rep> jitter(0, clock::duration(cfg_.probe_interval).count());
        next_probe_ = now + clock::duration(jitter(rng_));
        next_push_pull_ = now + cfg_.push_pull_interval;
    }
    if (self_.state != status::alive) return;
    if (probe_) {
        if (!probe_->acked && !probe_->indirect_sent && now >= probe_->indirect_at) {
            const auto helpers = random_live(cfg_.indirect_probes, probe_->target);
            for (const auto& h : helpers) send(h, kind::ping_req, probe_->seq, probe_->target);
            probe_->indirect_sent = true;
            probe_->nacks_expected = helpers.size();
        }
        if (now >= probe_->period_end) end_probe(now);
    }
    if (!probe_ && now >= next_probe_) start_probe(now);

    if (now >= next_expiry_) expire(now);

    for (auto it = relays_.begin(); it != relays_.end();) {
        if (now < it->second.nack_at) {
            ++it;
            continue;
        }
        const relay back = it->second;
        it = relays_.erase(it);
        send(back.origin, kind::nack, back.origin_seq, self_.id);
    }
}

void gossip_membership::expire(clock::time_point now) {
    next_expiry_ = clock::time_point::max();
    std::vector<node_id> suspects_due, tombstones_due;
    for (const auto& [id, m] : members_) {
        if (m.state.state == status::suspect) {
            if (now >= m.suspect_deadline) suspects_due.push_back(id);
            else expires_at(m.suspect_deadline);
        } else if (!is_live(m.state.state)) {
            if (now >= m.since + cfg_.tombstone_for) tombstones_due.push_back(id);
            else expires_at(m.since + cfg_.tombstone_for);
        }
    }
    // Applied after the scan: apply() may change the table.
    for (const auto& id : suspects_due)
        apply(update{id, members_.at(id).state.incarnation, status::dead, {}, {}}, now);
    for (const auto& id : tombstones_due) members_.erase(id);
}

clock::time_point gossip_membership::next_deadline() const {
    if (!started_) return clock::time_point{};   // at once: the first tick starts the rounds
    auto next = std::min(next_probe_, next_expiry_);
    // An acked probe has nothing due before its period ends: not its indirect probes.
    if (probe_)
        next = std::min(next, probe_->acked || probe_->indirect_sent ? probe_->period_end : probe_->indirect_at);
    for (const auto& [seq, r] : relays_) next = std::min(next, r.nack_at);
    return next;
}

std::optional<node_id> gossip_membership::push_pull_due(clock::time_point now) {
    if (!started_ || now < next_push_pull_ || self_.state != status::alive) return std::nullopt;
    // Past 32 members the full exchange grows with the mesh, so it happens less often.
    const double members = static_cast<double>(live_ + 1);
    const double scale = members <= 32 ? 1.0 : std::ceil(std::log2(members) - std::log2(32.0)) + 1.0;
    next_push_pull_ = now + std::chrono::duration_cast<clock::duration>(cfg_.push_pull_interval * scale);
    const auto one = random_live(1, self_.id);
    if (one.empty()) return std::nullopt;
    return one.front();
}

std::vector<outgoing> gossip_membership::take_outgoing() { return std::exchange(outgoing_, {}); }
std::vector<change> gossip_membership::take_changes() { return std::exchange(changes_, {}); }

std::optional<update> gossip_membership::find(const node_id& id) const {
    if (id == self_.id) return self_;
    auto it = members_.find(id);
    if (it == members_.end()) return std::nullopt;
    return it->second.state;
}

void gossip_membership::send(const node_id& to, kind type, std::uint32_t seq, const node_id& target) {
    message m{type, seq, target, news_.take(cfg_.max_piggyback, retransmit_limit(cfg_.retransmit_mult, live_ + 1))};
    outgoing_.push_back({to, std::move(m)});
}

void gossip_membership::start_probe(clock::time_point now) {
    const auto target = next_target();
    next_probe_ = now + scaled(cfg_.probe_interval);
    if (!target) return;
    probe p;
    p.target = *target;
    p.seq = next_seq_++;
    p.indirect_at = now + scaled(cfg_.probe_timeout);
    p.period_end = next_probe_;
    send(p.target, kind::ping, p.seq, p.target);
    probe_ = p;
}

void gossip_membership::end_probe(clock::time_point now) {
    const probe p = *probe_;
    probe_.reset();
    if (p.acked) {
        add_health(-1);
        return;
    }
    // No ack: this member may be the one at fault; more so when the relays did not even
    // say the target was silent (Lifeguard's nack accounting).
    add_health(1 + static_cast<int>(p.nacks_expected - std::min(p.nacks, p.nacks_expected)));
    auto it = members_.find(p.target);
    if (it == members_.end() || !is_live(it->second.state.state)) return;
    // A suspect already: this is a confirmation (Lifeguard's independent suspicions).
    apply(update{p.target, it->second.state.incarnation, status::suspect, self_.id, {}}, now);
}

std::optional<node_id> gossip_membership::next_target() {
    for (std::size_t tries = 0; tries <= probe_order_.size() + 1; ++tries) {
        if (probe_next_ >= probe_order_.size()) {
            // A new round: every live member once, in a fresh random order.
            probe_order_.clear();
            for (const auto& [id, m] : members_)
                if (is_live(m.state.state)) probe_order_.push_back(id);
            std::shuffle(probe_order_.begin(), probe_order_.end(), rng_);
            probe_next_ = 0;
            if (probe_order_.empty()) return std::nullopt;
        }
        const auto id = probe_order_[probe_next_++];
        auto it = members_.find(id);
        if (it != members_.end() && is_live(it->second.state.state)) return id;
    }
    return std::nullopt;
}

std::vector<node_id> gossip_membership::random_live(std::size_t n, const node_id& except) {
    // Reservoir sampling: one pass, no copy of the table.
    std::vector<node_id> chosen;
    std::size_t seen = 0;
    for (const auto& [id, m] : members_) {
        if (id == except || m.state.state != status::alive) continue;
        ++seen;
        if (chosen.size() < n) {
            chosen.push_back(id);
        } else {
            std::uniform_int_distribution<std::size_t> pick(0, seen - 1);
            if (const auto i = pick(rng_); i < n) chosen[i] = id;
        }
    }
    return chosen;
}

void gossip_membership::add_health(int delta) { health_ = std::clamp(health_ + delta, 0, cfg_.max_health); }

}  // namespace zmesh::discovery::gossip
