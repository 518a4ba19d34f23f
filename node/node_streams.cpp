// SPDX-License-Identifier: MPL-2.0
// node_streams: the durable streams' API — declaring, listing, stored publishes, consumers
// and their settles — checked here, carried out on the reactor (node/streams/durable_streams).
#include "node_threads.hpp"

#include "protocol/event.hpp"
#include "protocol/msgpack_io.hpp"
#include "protocol/stream.hpp"
#include "streams/wire.hpp"

#include <atomic>
#include <stdexcept>

namespace zmesh {

namespace {

void check_name(const std::string& name, const char* what) {
    if (name.empty() || name.size() > protocol::max_stream_name_len)
        throw std::invalid_argument(std::string(what) + " must be 1..255 bytes");
}


// Waits for the reactor's answer to a command that never fails to be answered while it runs.
template <class T>
T await(std::future<T>& f) {
    if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
        throw stream_error("the node did not answer (stopping?)");
    return f.get();
}

}  // namespace

void node::declare_stream(const stream_config& config) {
    check_name(config.name, "a stream name");
    if (!threads_) throw std::logic_error("declare_stream needs a running node");
    detail::declare_stream_command c{config, {}};
    auto done = c.done.get_future();
    send_command(std::move(c));
    await(done);
}

bool node::remove_stream(const std::string& name) {
    if (!threads_) throw std::logic_error("remove_stream needs a running node");
    detail::remove_stream_command c{name, {}};
    auto done = c.done.get_future();
    send_command(std::move(c));
    return await(done);
}

std::vector<stream_info> node::streams() const {
    if (!threads_) return {};
    return threads_->ask<std::vector<stream_info>, detail::streams_query>();
}

std::future<void> node::publish_stored_packed(std::string_view topic, std::string_view key,
                                              std::span<const std::uint8_t> msgpack_bytes) {
    if (protocol::check_topic(topic)) throw std::invalid_argument("topic must be 1..255 bytes without NUL");
    if (key.size() > protocol::max_record_key_len)
        throw std::invalid_argument("a stored message's key is 0..255 bytes, not " + std::to_string(key.size()));
    if (auto e = protocol::check_msgpack(msgpack_bytes))
        throw std::invalid_argument("payload is not one msgpack object: " + std::string(protocol::to_string(*e)));
    if (msgpack_bytes.size() > options_.max_event_size)
        throw std::invalid_argument("payload of " + std::to_string(msgpack_bytes.size()) +
                                    " bytes is over max_event_size (" + std::to_string(options_.max_event_size) + ")");
    std::promise<void> stored;
    auto future = stored.get_future();
    if (!threads_) {
        stored.set_exception(std::make_exception_ptr(stream_error("node is not running")));
        return future;
    }
    // As a publish lays it out: the reactor stamps it, sends it and stores it.
    zmq::message_t frame(protocol::event_frame_size(topic.size(), msgpack_bytes.size()));
    protocol::lay_out_event_frame(topic, msgpack_bytes, {frame.data<std::uint8_t>(), frame.size()});
    send_command(detail::publish_stored_command{std::move(frame), std::move(stored), std::string(key)});
    return future;
}

consumer_id node::consume(const std::string& stream, const std::string& consumer, stream_handler handler,
                          consume_options options, run_on where) {
    if (!handler) throw std::invalid_argument("stream handler is empty");
    detail::consume_command c{0, stream, consumer, std::make_shared<const stream_handler>(std::move(handler)),
                              std::move(options), where};
    // The bounds are the wire's (PROTOCOL.md §14): what its encoder refuses, a publisher would.
    try {
        (void)protocol::encode_stream_frame(detail::streams::to_wire(detail::request_of(c)));
    } catch (const std::length_error& e) {
        throw std::invalid_argument(std::string("consume: ") + e.what());
    }
    if (!threads_) throw std::logic_error("consume needs a running node");
    static std::atomic<consumer_id> next_id{1};
    const consumer_id id = c.id = next_id++;
    {
        std::lock_guard lock(threads_->consumers_mutex);
        for (const auto& [other, names] : threads_->consumers)
            if (names == std::pair(stream, consumer))
                throw std::invalid_argument("this node consumes " + stream + " as " + consumer + " already");
        threads_->consumers.emplace(id, std::pair(stream, consumer));
    }
    send_command(std::move(c));
    return id;
}

void node::stop_consuming(consumer_id id) {
    if (!threads_) return;
    {
        std::lock_guard lock(threads_->consumers_mutex);
        if (threads_->consumers.erase(id) == 0) return;
    }
    send_command(detail::stop_consuming_command{id});
}

}  // namespace zmesh
