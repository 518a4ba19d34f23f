// SPDX-License-Identifier: MPL-2.0
// reactor, events out: publishing on the PUB (sequence numbers, the header's time), a peer's
// SUBS, and the STATS control messages. Events in are the subscriber's (node/pubsub/).
#include "reactor.hpp"

#include "pipe.hpp"
#include "protocol/msgpack_io.hpp"

#include <algorithm>
#include <chrono>

namespace zmesh::detail {

std::uint64_t reactor::next_seq(std::string_view topic) {
    // Past max_topics_tracked the table restarts: subscribers see seq restart at 1, which
    // they do not count as a gap.
    bool added = false;
    return ++topic_seq_.at(topic, added);
}

void reactor::on_publish(zmq::message_t& msg) {
    // Laid out by node::send_event: a frame without a topic or header room here is a bug.
    const auto frame = std::span<std::uint8_t>(msg.data<std::uint8_t>(), msg.size());
    const auto topic_size = protocol::event_topic_size(frame);
    if (!topic_size || frame.size() < protocol::event_frame_size(*topic_size, 0)) return;
    const std::string_view topic(msg.data<char>(), *topic_size);
    if (round_unix_us_ == 0) round_unix_us_ = unix_now_us();
    const protocol::event_header h{id_, next_seq(topic), round_unix_us_};
    const auto body = frame.subspan(protocol::event_body_offset(*topic_size));
    protocol::write_event_header(h, body.first<protocol::event_header_size>());
    subscriber_.deliver_local(topic, h, body.subspan(protocol::event_header_size));
    // PUB never blocks: past send_hwm for a subscriber, libzmq drops for that subscriber.
    pub_.send(msg, zmq::send_flags::dontwait);
    touched(polled_pub);   // the send may take the signal of subscriptions waiting
    ++stats_.events_out;
}

void reactor::handle(subscribe_command& c) { subscriber_.subscribe(c); }

void reactor::handle(unsubscribe_command& c) { subscriber_.unsubscribe(c); }

void reactor::on_subs(discovery::peer& p, protocol::subs&& s) {
    subscriber_.peer_subscribes(p, std::move(s));
    // libzmq applies a PUB's incoming filters lazily, on its next command check. This
    // peer's filters came before its SUBS: make the PUB take them now, so an event published
    // right after "subscriptions known" is not filtered out, and count them now.
    (void)pub_.get(zmq::sockopt::events);
    on_pub();
}

void reactor::on_stats_query(const node_id& from) {
    // Every counter fits one STATS, so encoding it never fails for its size.
    static_assert(std::size(node_counters) <= protocol::max_stats_counters);
    send_to(from, protocol::stats{counters_of(current_stats())});
}

void reactor::poll_peer_stats() {
    for (const auto& [id, p] : table_.all())
        if (p.state != peer_state::connecting && !p.observer) send_to(id, protocol::stats_query{});
}

}  // namespace zmesh::detail
