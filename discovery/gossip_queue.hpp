// SPDX-License-Identifier: MPL-2.0
// gossip_queue: the news a member still has to pass on. Each update rides on the next
// outgoing messages until it has gone out `limit` times (SWIM's infection-style
// dissemination: a few times log(members) reaches everyone with high probability). Urgent
// news (a suspicion, a death, a refutation) goes before any greeting (a member newly
// learned), so that a death is not queued behind a joiner's thousand greetings, which the
// push-pull exchange carries anyway; within each, the least passed-on first, then the
// newest. A newer update about a member replaces the older one and starts again, so the
// queue holds at most one entry per member.
#pragma once

#include "gossip.hpp"

#include <cstddef>
#include <map>
#include <unordered_map>
#include <vector>

namespace zmesh::discovery::gossip {

class gossip_queue {
public:
    // Queues `u` (replacing any news about its member); `urgent`: not a mere greeting.
    void push(const update& u, bool urgent = true);
    // Returns: up to `max` updates for one message, of `room` bytes at most on the wire
    // (protocol::gossip_update_size), each counted as sent once more; those sent `limit`
    // times are dropped. One that does not fit what room is left stays, its count unchanged,
    // for the next message; the ones after it may still go.
    std::vector<update> take(std::size_t max, std::size_t limit,
                             std::size_t room = protocol::gossip_updates_room);
    // Forgets the news about `id` (a member erased).
    void erase(const node_id& id);
    std::size_t size() const noexcept { return queued_.size(); }
    bool empty() const noexcept { return queued_.empty(); }

private:
    // The order news goes out in: urgent first, then the least sent, then the newest.
    struct rank {
        bool greeting = false;
        std::size_t sent = 0;
        std::uint64_t order = 0;
    };
    struct by_rank {
        bool operator()(const rank& a, const rank& b) const {
            if (a.greeting != b.greeting) return b.greeting;
            return a.sent != b.sent ? a.sent < b.sent : a.order > b.order;
        }
    };
    struct entry {
        update news;
        rank at;
        std::size_t size = 0;   // on the wire: measured once, read by every take()
    };
    std::unordered_map<node_id, entry> queued_;
    std::map<rank, node_id, by_rank> order_;
    std::uint64_t next_order_ = 0;
};

// Returns: how many times an update goes out in a mesh of `members`:
// mult * ceil(log10(members + 1)), at least mult.
std::size_t retransmit_limit(std::size_t mult, std::size_t members);

}  // namespace zmesh::discovery::gossip
