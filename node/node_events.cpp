// SPDX-License-Identifier: MPL-2.0
// node_events: subscribing (with the bounds every publisher holds its subscribers to) and
// publishing, from any thread.
#include "node_threads.hpp"

#include "protocol/event.hpp"
#include "protocol/limits.hpp"
#include "protocol/msgpack_io.hpp"

#include <atomic>
#include <map>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace zmesh {

namespace {
// Returns: the longest subscription prefix the linked libzmq sends intact. Before 4.3.5 it
// encodes one of 246..255 bytes with a wrong length (its issue 4564), which breaks the
// subscriber's connection to every publisher and every subscription with it.
std::size_t longest_prefix_sent_intact() {
    int major = 0, minor = 0, patch = 0;
    zmq_version(&major, &minor, &patch);
    const bool fixed = std::tie(major, minor, patch) >= std::tuple(4, 3, 5);
    return fixed ? protocol::max_topic_len : 245;
}
}  // namespace

subscription_id node::subscribe(std::string prefix, event_handler handler, run_on where) {
    if (prefix.find('\0') != std::string::npos)
        throw std::invalid_argument("a subscription prefix may not contain NUL");
    if (const auto longest = longest_prefix_sent_intact(); prefix.size() > longest)
        throw std::invalid_argument(
            "a subscription prefix is at most " + std::to_string(longest) + " bytes" +
            (longest < protocol::max_topic_len ? " with libzmq before 4.3.5, which corrupts longer ones"
                                               : ""));
    if (!handler) throw std::invalid_argument("subscription handler is empty");
    static std::atomic<subscription_id> next_id{1};
    const subscription_id id = next_id++;
    {
        std::lock_guard lock(prefix_counts_->mutex);
        auto& counts = prefix_counts_->subscriptions;
        if (!counts.count(prefix)) {
            // The bounds every publisher holds its subscribers to (PROTOCOL.md §9.4).
            if (counts.size() >= protocol::max_subscriptions)
                throw std::length_error("a node subscribes to at most " +
                                        std::to_string(protocol::max_subscriptions) +
                                        " distinct prefixes");
            if (prefix_counts_->bytes + prefix.size() > protocol::max_subscription_bytes)
                throw std::length_error("a node's distinct prefixes hold at most " +
                                        std::to_string(protocol::max_subscription_bytes) +
                                        " bytes in all");
            prefix_counts_->bytes += prefix.size();
        }
        ++counts[prefix];
        prefix_counts_->prefix_of.emplace(id, prefix);
    }
    if (!threads_)
        early_subs_.push_back({id, std::move(prefix), std::move(handler), where});
    else
        send_command(detail::subscribe_command{id, std::move(prefix), std::move(handler), where});
    return id;
}

void node::unsubscribe(subscription_id id) {
    {
        std::lock_guard lock(prefix_counts_->mutex);
        const auto it = prefix_counts_->prefix_of.find(id);
        if (it == prefix_counts_->prefix_of.end()) return;   // not ours, or gone already
        if (auto c = prefix_counts_->subscriptions.find(it->second); --c->second == 0) {
            prefix_counts_->bytes -= c->first.size();
            prefix_counts_->subscriptions.erase(c);
        }
        prefix_counts_->prefix_of.erase(it);
    }
    if (!threads_) {
        std::erase_if(early_subs_, [id](const auto& s) { return s.id == id; });
        return;
    }
    send_command(detail::unsubscribe_command{id});
}

bool node::publish(std::string_view topic, std::span<const std::uint8_t> bytes) {
    static thread_local msgpack::sbuffer buffer(256);
    buffer.clear();
    msgpack::packer<msgpack::sbuffer> pk(buffer);
    pk.pack_bin(static_cast<std::uint32_t>(bytes.size()));
    pk.pack_bin_body(reinterpret_cast<const char*>(bytes.data()), static_cast<std::uint32_t>(bytes.size()));
    return send_event(topic, {reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size()});
}

bool node::publish_packed(std::string_view topic, std::span<const std::uint8_t> msgpack_bytes) {
    if (auto e = protocol::check_msgpack(msgpack_bytes))
        throw std::invalid_argument("payload is not one msgpack object: " +
                                    std::string(protocol::to_string(*e)));
    return send_event(topic, msgpack_bytes);
}

bool node::send_event(std::string_view topic, std::span<const std::uint8_t> payload) {
    if (protocol::check_topic(topic))
        throw std::invalid_argument("topic must be 1..255 bytes without NUL");
    if (payload.size() > options_.max_event_size)
        throw std::invalid_argument("payload of " + std::to_string(payload.size()) +
                                    " bytes is over max_event_size (" +
                                    std::to_string(options_.max_event_size) + ")");
    if (threads_) {
        // The event's own wire frame, with room for the header: the reactor writes the header
        // in place and sends this very buffer on, with no copy.
        zmq::message_t frame(protocol::event_frame_size(topic.size(), payload.size()));
        protocol::lay_out_event_frame(
            topic, payload, std::span<std::uint8_t>(frame.data<std::uint8_t>(), frame.size()));
        if (auto* r = threads_->reactor_of_this_thread()) {
            // The same bound as a thread's pipe: reactor code publishing in a loop fills it.
            if (r->posted() < options_.publish_queue) {
                r->post_event(std::move(frame));
                return true;
            }
        } else {
            if (detail::send_event_frame(threads_->commands.socket(), frame)) return true;
        }
    }
    counters_->publish_dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
}

}  // namespace zmesh
