// SPDX-License-Identifier: MPL-2.0
// senders: what a subscriber knows of each peer whose events it takes — its name, the last
// sequence number per topic (so a jump is a gap, counted), and the events it sent before its
// HELLO (held, bounded, until it joins, so the application sees it join before its first
// event). Pure bookkeeping: no sockets.
#pragma once

#include "node/topic_counters.hpp"
#include "protocol/node_id.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zmesh::detail {

// Bounds per-topic state: past it a table restarts (the next events count no gap).
inline constexpr std::size_t max_topics_tracked = 65536;

class senders {
public:
    // Per sender; past either, an event in handshake is dropped.
    static constexpr std::size_t max_early_events = 4096, max_early_bytes = 4u << 20;

    struct figures {
        std::uint64_t events_in = 0, gaps = 0;   // accepted, and missed by sequence
    };
    struct sender {
        std::string name;
        topic_counters last_seq{max_topics_tracked};   // by topic
        figures seen;
        bool joined = false;
        std::vector<zmq::message_t> early;
        std::size_t early_bytes = 0;
    };

    // Returns: the sender `id`, or null (its events are not ours to take).
    sender* find(const protocol::node_id& id);
    // A peer dialled: its events are taken from now on, held until it joins.
    void dialled(const protocol::node_id& id, const std::string& name);
    void named(const protocol::node_id& id, const std::string& name);
    // It joined. Returns: the events it sent before, in order, to be taken now.
    std::vector<zmq::message_t> joined(const protocol::node_id& id);
    // Holds `frame`, an event of `s` in handshake. Returns: false (dropped) past the bounds.
    bool hold(sender& s, zmq::message_t&& frame);
    // Takes event `seq` of `s` on `topic`. Returns: the events missed before it. The first
    // event on a topic sets the baseline (what came before we joined is no gap), and a seq
    // at or below the last means the sender restarted its count.
    std::uint64_t take(sender& s, std::string_view topic, std::uint64_t seq);
    // It is gone, never having joined. Returns: the events it held, dropped.
    std::size_t drop_early(const protocol::node_id& id);
    void erase(const protocol::node_id& id) { senders_.erase(id); }
    // Forgets every sender's sequence on the topics `unwanted` names: the next event there
    // sets a new baseline.
    template <class Pred>
    void forget_topics(Pred unwanted) {
        for (auto& [id, s] : senders_) s.last_seq.forget_if(unwanted);
    }
    figures of(const protocol::node_id& id) const;

private:
    std::unordered_map<protocol::node_id, sender> senders_;
};

}  // namespace zmesh::detail
