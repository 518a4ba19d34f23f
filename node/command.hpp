// SPDX-License-Identifier: MPL-2.0
// command: what other threads ask of the reactor, and what the reactor hands the delivery
// thread. Each is one variant, handled by std::visit.
#pragma once

#include "handler_errors.hpp"

#include <zmesh/node.hpp>
#include <zmesh/streams.hpp>

#include <zmq.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

namespace zmesh::detail {

// What the reactor, the delivery thread and publishing threads count together.
struct shared_counters {
    std::atomic<std::int64_t> pending_events{0};   // handed to the delivery thread, not done
    std::atomic<std::uint64_t> handler_errors{0};
    std::atomic<std::uint64_t> publish_dropped{0};
    // Set by node::stop(): events still queued for handlers are dropped, not run — a slow
    // handler with a full queue would otherwise hold stop() for queue x handler time.
    std::atomic<bool> stopping{false};

    handler_error_log handler_log;

    // Runs application code (`what`: a handler or callback): whatever it throws is counted
    // in handler_errors and logged (handler_error_log), never propagated. An application
    // bug must not take the node down.
    template <class Code>
    void run_guarded(std::string_view what, Code&& code) noexcept {
        try {
            code();
        } catch (const std::exception& e) {
            handler_errors.fetch_add(1, std::memory_order_relaxed);
            handler_log.report(what, e.what());
        } catch (...) {
            handler_errors.fetch_add(1, std::memory_order_relaxed);
            handler_log.report(what, "something not derived from std::exception");
        }
    }
};

struct peers_query {
    std::promise<std::vector<peer_info>> reply;
};
struct stats_query {
    std::promise<node_stats> reply;
};
struct stop_command {};
struct subscribe_command {
    subscription_id id;
    std::string prefix;
    event_handler handler;   // passed on to the delivery thread, or kept by the reactor
    run_on where = run_on::handler_thread;
};
struct unsubscribe_command {
    subscription_id id;
};
// This node will publish `topic`: its meta lists the prefix before the first event.
struct announce_command {
    std::string topic;
};

// How a call's outcome is given: a future's promise, or a callback.
using call_done = std::variant<std::promise<reply>, call_callback>;

struct call_command {
    std::optional<node_id> peer;   // empty: any provider of the method
    // The whole REQUEST frame, but for its id (the reactor's). The method is read from it
    // (protocol::decode_request): carried beside it as a string as well, it was moved
    // at every layer of every call.
    zmq::message_t request;
    milliseconds timeout;
    call_done done;
    run_on where = run_on::handler_thread;   // of a callback
    std::string peer_name;   // without `peer`: a member of this name (node::call_named)
};
// A null handler stops serving the method.
struct serve_command {
    std::string method;
    std::shared_ptr<const rpc_handler> handler;
    run_on where = run_on::handler_thread;   // if so, node::serve started the workers first
};

// Durable streams (node/streams/node_streams.hpp).
struct declare_stream_command {
    stream_config config;
    std::promise<void> done;   // fails with stream_error
};
struct remove_stream_command {
    std::string name;
    std::promise<bool> done;
};
struct streams_query {
    std::promise<std::vector<stream_info>> reply;
};
// An event to publish and store: the event's frame, as a publish sends it.
struct publish_stored_command {
    zmq::message_t frame;
    std::promise<void> stored;   // fails with stream_error
    std::string key;             // stored with it, "" none (not sent)
};
struct consume_command {
    consumer_id id;
    std::string stream, consumer;
    std::shared_ptr<const stream_handler> handler;
    consume_options options;
    run_on where = run_on::handler_thread;
};
struct stop_consuming_command {
    consumer_id id;
};
// The application settled a message it was handed.
struct settle_command {
    node_id publisher;
    std::string stream, consumer;
    std::uint64_t seq = 0;
    std::uint32_t attempt = 0;
    stream_message::outcome outcome = stream_message::outcome::ack;
    milliseconds delay{0};
    std::string error;
};

// Publishes travel apart from these: as the event's wire frame itself on the same pipe (see
// command_pipe.hpp), so a publish costs the frame's one allocation and the reactor only fills
// in its header.
using command = std::variant<peers_query, stats_query, stop_command, subscribe_command,
                             unsubscribe_command, announce_command, call_command, serve_command, declare_stream_command,
                             remove_stream_command, streams_query, publish_stored_command, consume_command,
                             stop_consuming_command, settle_command>;

// The delivery thread's handler table changes in order with the events it dispatches.
struct subscription_added {
    subscription_id id;
    std::string prefix;
    event_handler handler;
};
struct subscription_removed {
    subscription_id id;
};
// Events received in one reactor batch, in arrival order.
struct event_batch {
    std::vector<event> events;
};
// A call made with a callback has its outcome.
struct call_completed {
    call_callback done;
    call_result result;
};
// Calls completed in one reactor batch (one message for many: a busy caller's replies come
// in bursts), in order.
struct call_batch {
    std::vector<call_completed> calls;
};
// A stream message for a consumer's handler.
struct stream_delivery {
    std::shared_ptr<const stream_handler> handler;
    stream_message message;
};
// The reactor's last delivery: everything before it has been handed over.
struct end_of_deliveries {};

using delivery = std::variant<peer_event, event_batch, subscription_added, subscription_removed,
                              call_completed, call_batch, stream_delivery, end_of_deliveries>;

}  // namespace zmesh::detail
