// SPDX-License-Identifier: MPL-2.0
// publisher: the PUB's bounds, stamping and sending events, reading subscriptions.
#include "publisher.hpp"

#include "node/bind.hpp"

namespace zmesh::detail {

namespace {
// Subscription messages libzmq reads from one connection before the node sees them.
constexpr int max_subscriptions_read_ahead = 64;
}  // namespace

publisher::publisher(node_context& ctx, zmq::context_t& net, security& sec, listeners& l, socket_use pub_used)
    : ctx_(ctx), listeners_(l), pub_used_(pub_used), prefixes_(ctx.opts.publishes) {
    const auto& opts = ctx_.opts;
    pub_ = bind_socket(net, zmq::socket_type::xpub, opts.bind, opts.pub_port, "PUB", opts.send_hwm,
                       [&](zmq::socket_t& s) {
                           // Every subscription and unsubscription, not only the first of a
                           // prefix: they are counted per connection.
                           s.set(zmq::sockopt::xpub_verboser, 1);
                           // A subscription is one byte and a prefix of at most
                           // max_topic_len; the security handshake's commands are under this
                           // too. A longer frame ends its connection before it is allocated.
                           s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_pub_frame));
                           // Subscriptions libzmq reads ahead of the node, per connection:
                           // they reach its trie before the node can refuse them.
                           s.set(zmq::sockopt::rcvhwm, max_subscriptions_read_ahead);
                           listeners_.watch(s, listener::pub);
                           sec.secure_server(s);
                       });
    port_ = bound_port(pub_);
    listeners_.bound(listener::pub, port_);
}

std::optional<publisher::stamped> publisher::stamp(zmq::message_t& msg) {
    const auto frame = std::span<std::uint8_t>(msg.data<std::uint8_t>(), msg.size());
    const auto topic_size = protocol::event_topic_size(frame);
    if (!topic_size || frame.size() < protocol::event_frame_size(*topic_size, 0)) return std::nullopt;
    const std::string_view topic(msg.data<char>(), *topic_size);
    if (round_unix_us_ == 0) round_unix_us_ = unix_now_us();
    // Past max_topics_tracked the table restarts: subscribers see seq restart at 1, which
    // they do not count as a gap.
    bool added = false;
    const protocol::event_header h{ctx_.id, ++topic_seq_.at(topic, added), round_unix_us_};
    const auto body = frame.subspan(protocol::event_body_offset(*topic_size));
    protocol::write_event_header(h, body.first<protocol::event_header_size>());
    return stamped{topic, h, body.subspan(protocol::event_header_size), added && prefixes_.note(topic)};
}

void publisher::send(zmq::message_t& frame) {
    // PUB never blocks: past send_hwm for a subscriber, libzmq drops for that subscriber.
    pub_.send(frame, zmq::send_flags::dontwait);
    pub_used_();   // the send may take the signal of subscriptions waiting
    ++ctx_.stats.events_out;
}

void publisher::on_readable() {
    zmq::message_t msg;
    for (int i = 0; i < max_batch; ++i) {
        if (!pub_.recv(msg, zmq::recv_flags::dontwait)) return;
        listeners_.on_subscription(msg);
    }
}

void publisher::take_subscriptions() {
    (void)pub_.get(zmq::sockopt::events);
    on_readable();
}

void publisher::close() {
    // Events still queued for subscribers get the same time as LEAVE to go out.
    pub_.set(zmq::sockopt::linger, 1000);
    pub_.close();
}

}  // namespace zmesh::detail
