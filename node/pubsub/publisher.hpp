// SPDX-License-Identifier: MPL-2.0
// publisher: the events a node sends — its PUB (an XPUB, so that each subscription comes with
// its connection and can be bounded, see listeners), the sequence number of each topic, and
// the header's time, read once a round.
#pragma once

#include "node/context.hpp"
#include "node/listeners.hpp"
#include "node/socket_use.hpp"
#include "node/topic_counters.hpp"
#include "published_prefixes.hpp"
#include "senders.hpp"
#include "protocol/event.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include <span>
#include <string_view>

namespace zmesh::detail {

// The largest frame our PUB reads: a subscription (a byte, then a prefix of up to
// max_topic_len) or a security handshake command, with room to spare.
inline constexpr std::size_t max_pub_frame = 512;

class publisher {
public:
    // Binds the PUB to the options' host and port, watched by `l`, secured by `sec`. Throws
    // std::runtime_error with a one-line message when it cannot bind.
    publisher(node_context& ctx, zmq::context_t& net, security& sec, listeners& l, socket_use pub_used);

    zmq::socket_t& socket() noexcept { return pub_; }
    std::uint16_t port() const noexcept { return port_; }

    // An event, stamped and ready to go: its topic and body are views into the frame.
    struct stamped {
        std::string_view topic;
        protocol::event_header header;
        std::span<const std::uint8_t> body;
        bool new_prefix = false;   // the topic's prefix was not listed yet: the meta says it next
    };
    // Writes the header (this node, the topic's next sequence, the round's time) into an
    // event frame laid out by node::send_event. Returns: nothing for a frame without a
    // topic or header room, which is a bug of the caller.
    std::optional<stamped> stamp(zmq::message_t& frame);
    // Sends a stamped frame to every subscriber; past send_hwm for one, libzmq drops for it.
    void send(zmq::message_t& frame);
    // Returns: the prefixes of the topics this node publishes (options::publishes, and each
    // new topic's up to its first '.'), or none past max_published_prefixes: it may then
    // publish anything.
    std::optional<std::vector<std::string>> prefixes() const { return prefixes_.list(); }
    // This node will publish `topic`. Returns: whether its prefix is new (the meta says it next).
    bool announce(std::string_view topic) { return prefixes_.note(topic); }
    // A new round: the next event reads the clock again.
    void new_round() noexcept { round_unix_us_ = 0; }

    // Reads the subscriptions (and unsubscriptions) our PUB received, a batch at most.
    void on_readable();
    // libzmq applies a PUB's incoming filters lazily, on its next command check: makes it
    // take (and count) those that came, so an event published now is not filtered out.
    void take_subscriptions();
    void close();

private:
    node_context& ctx_;
    listeners& listeners_;
    socket_use pub_used_;
    zmq::socket_t pub_;
    std::uint16_t port_ = 0;
    topic_counters topic_seq_{max_topics_tracked};   // last seq published per topic
    // sent_us of the events published this round: one clock read per round, not per event.
    // 0: not read yet, so a round without events reads no clock.
    std::uint64_t round_unix_us_ = 0;
    published_prefixes prefixes_;
};

}  // namespace zmesh::detail
