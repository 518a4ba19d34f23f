// SPDX-License-Identifier: MPL-2.0
// gossip_sim: many gossip_memberships in one process, over a simulated network — messages
// arrive after a fixed latency (plus a member's own delay, for a slow member), some are
// lost at random, a killed member neither sends nor receives, and a stalled one (a process
// the scheduler does not run) does neither until it resumes, then reads what waited. Time is simulated, in
// steps, and every random choice is seeded: a run is the same run every time.
#pragma once

#include "discovery/gossip_membership.hpp"

#include <deque>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

namespace zmesh::discovery::gossip::test {

inline node_id numbered_id(std::size_t n) {
    node_id::bytes_type b{};
    for (std::size_t i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(n >> (8 * i));
    b[15] = 0x5a;   // never the all-zero id
    return node_id(b);
}

struct sim {
    explicit sim(std::size_t members, config cfg = {}, std::uint64_t seed = 1) : rng(seed) {
        for (std::size_t i = 0; i < members; ++i) {
            ids.push_back(numbered_id(i));
            index[ids.back()] = i;
            nodes.push_back(std::make_unique<gossip_membership>(ids.back(), "m" + std::to_string(i), 1, cfg,
                                                                 seed * 7919 + i));
            down.push_back(false);
            delay.push_back(milliseconds(0));
            stalled_until.push_back(clock::time_point{});
        }
    }

    // Every member knows every other (as a converged mesh does).
    void know_all() {
        for (std::size_t i = 0; i < nodes.size(); ++i)
            for (std::size_t j = 0; j < nodes.size(); ++j)
                if (i != j) nodes[i]->learn(update{ids[j], 1, status::alive, {}, "m" + std::to_string(j)}, now);
        for (auto& n : nodes) (void)n->take_changes();
    }

    // Advances by `d` in steps of `step`: delivers what is due, ticks every member that has
    // something due, queues what they send.
    template <class Each = void (*)()>
    void run(clock::duration d, Each each_step = [] {}) {
        const auto end = now + d;
        while (now < end) {
            now += step;
            std::vector<in_flight> waiting;   // for a stalled member: read when it resumes
            while (!wire.empty() && wire.front().at <= now) {
                auto m = std::move(wire.front());
                wire.pop_front();
                if (down[m.to]) continue;
                if (stalled_until[m.to] > now) {
                    waiting.push_back(std::move(m));
                    continue;
                }
                nodes[m.to]->on_message(m.from, m.msg, now);
                collect(m.to);
            }
            for (auto& m : waiting) {
                m.at = stalled_until[m.to];
                place(std::move(m));
            }
            for (std::size_t i = 0; i < nodes.size(); ++i) {
                if (down[i] || stalled_until[i] > now || nodes[i]->next_deadline() > now) continue;
                nodes[i]->tick(now);
                ++ticks;
                if (auto peer = nodes[i]->push_pull_due(now)) push_pull(i, index.at(*peer));
                collect(i);
            }
            each_step();
        }
    }

    void collect(std::size_t from) {
        for (auto& out : nodes[from]->take_outgoing()) {
            ++sent;
            piggybacked += out.msg.updates.size();
            if (loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < loss) continue;
            const auto to = index.find(out.to);
            if (to == index.end()) continue;
            place(in_flight{now + latency + delay[from], to->second, ids[from], std::move(out.msg)});
        }
    }

    // The full exchange, as a TCP push-pull would carry it (not lost).
    void push_pull(std::size_t a, std::size_t b) {
        if (down[b] || stalled_until[b] > now) return;
        ++push_pulls;
        const auto from_a = nodes[a]->snapshot(), from_b = nodes[b]->snapshot();
        nodes[b]->merge(from_a, now);
        nodes[a]->merge(from_b, now);
        collect(b);
    }

    // Returns: how many members other than `id`'s own, and not down, see `id` in `state`.
    std::size_t seen_as(const node_id& id, status state) const {
        std::size_t n = 0;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (down[i] || ids[i] == id) continue;
            const auto u = nodes[i]->find(id);
            if (u && u->state == state) ++n;
        }
        return n;
    }
    std::size_t up() const { return static_cast<std::size_t>(std::count(down.begin(), down.end(), false)); }

    struct in_flight {
        clock::time_point at;
        std::size_t to;
        node_id from;
        message msg;
    };
    // Equal latencies keep the wire in order; a slow sender's messages, and those that
    // waited for a stalled member, are placed where their time falls.
    void place(in_flight m) {
        auto at = wire.end();
        while (at != wire.begin() && std::prev(at)->at > m.at) --at;
        wire.insert(at, std::move(m));
    }
    std::mt19937_64 rng;
    clock::time_point now = clock::time_point{} + std::chrono::hours(1);
    clock::duration step = milliseconds(5);
    clock::duration latency = milliseconds(1);
    double loss = 0;
    std::vector<node_id> ids;
    std::unordered_map<node_id, std::size_t> index;
    std::vector<std::unique_ptr<gossip_membership>> nodes;
    std::vector<bool> down;
    std::vector<clock::duration> delay;
    std::vector<clock::time_point> stalled_until;
    std::deque<in_flight> wire;
    std::size_t sent = 0, piggybacked = 0, push_pulls = 0;
    std::size_t ticks = 0;   // members woken by a deadline: what an idle member costs
};

}  // namespace zmesh::discovery::gossip::test
