// SPDX-License-Identifier: MPL-2.0
// durable_streams: a node's durable streams, between the reactor and the pure logic — the
// streams it publishes (a stream_publisher over the log in options::data_dir, when it has
// one) and the consumers it runs (a stream_consumer, one session per member that may hold the
// stream). It turns their decisions into frames on the members' links, hands messages to the
// application through the outbox (or at once, on the reactor), and turns the application's
// settles back into SETTLEs.
//
// A consumer asks every joined member for its stream: those without it answer no_stream and
// are asked again now and then (a stream may be declared later). A member's link lost ends
// its sessions on both sides: its records go to the other members at once, and its consumers
// start again when it is back (with the same id if it kept its data directory).
#pragma once

#include "node/command.hpp"
#include "node/context.hpp"
#include "node/outbox.hpp"
#include "stream_consumer.hpp"
#include "stream_publisher.hpp"

#include <zmesh/streams.hpp>

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace zmesh::detail {

// Returns: what `c` asks of each publisher, as the consumer logic and the wire carry it.
streams::consume_request request_of(const consume_command& c);

// How a stored publish ended: stored (as the log's durability promises), no stream takes its
// topic, or it failed (the log, no data directory, the node stopping), with why.
enum class store_outcome { stored, no_stream, failed };
using stored_callback = std::function<void(store_outcome, const std::string& why)>;
// Returns: a callback that tells `p` (a publish_stored's future) how the publish ended.
stored_callback tell_promise(std::promise<void>&& p);

class durable_streams final : private streams::stream_sink {
public:
    using clock = std::chrono::steady_clock;
    // Sends a frame on this node's link to a member. Returns: false when it could not.
    using frame_sender = std::function<bool(const node_id& to, zmq::message_t& frame)>;
    // Makes what a stream_message calls to be settled (node::start: through the command pipe).
    using settler_factory = std::function<stream_message::settler(settle_command)>;

    // Opens the log in ctx.opts.data_dir when there is one. Throws std::runtime_error (the
    // store's message) when it cannot.
    durable_streams(node_context& ctx, shared_counters& counters, frame_sender send, outbox& out,
                    settler_factory settlers);
    ~durable_streams();

    // The application's commands.
    void handle(declare_stream_command& c);
    void handle(remove_stream_command& c);
    void handle(streams_query& q);
    void handle(consume_command& c, clock::time_point now);
    void handle(stop_consuming_command& c);
    void handle(settle_command& c);

    // An event this node published: stored, with `key` ("" none), in every stream that takes
    // its topic. `stored` (a publish_stored's, or an administrator's) is told when it is on
    // disk, or why not.
    void published(std::string_view topic, std::string_view key, std::span<const std::uint8_t> payload,
                   std::uint64_t time_us, const stored_callback& stored, clock::time_point now);
    // Returns: the streams this node publishes, or null without a data directory (for the
    // administration of PROTOCOL.md §15, on the reactor).
    streams::stream_publisher* publisher() noexcept { return publisher_.get(); }

    // Members (not observers) joining and leaving the mesh, as the mesh sees them.
    void member_joined(const node_id& id, clock::time_point now);
    void member_left(const node_id& id, clock::time_point now);
    // A stream frame (types 0x30..0x34) from member `from`.
    void on_frame(const node_id& from, std::span<const std::uint8_t> frame, std::uint8_t type, clock::time_point now);

    void on_timers(clock::time_point now, std::uint64_t now_us);
    clock::time_point next_deadline(clock::time_point later) const;
    // The end of the reactor's round: stores what was published in it, and sends what the
    // consumers decided (their settles, batched).
    void flush();

    // Adds this node's stream counters to `s`.
    void count(node_stats& s) const;

private:
    struct app_consumer {
        consumer_id id;
        std::string stream, consumer;
        std::shared_ptr<const stream_handler> handler;
        run_on where;
        streams::consume_request request;
    };
    // stream_sink: the publisher's output.
    void deliver(const streams::member_id& to, const streams::delivery_message& d) override;
    void answer(const streams::member_id& to, const streams::consume_answer& a) override;
    void stored(std::uint64_t ticket, bool ok) override;

    template <class Message>
    void send(const node_id& to, const Message& m);
    // Runs a step of the log; a store failure is logged and counted, never thrown.
    template <class Step>
    bool guarded(const char* what, Step&& step);
    void on_deliver(const node_id& from, std::span<const std::uint8_t> frame);
    // Starts `a`'s session with `member`, or resumes it.
    void start(const node_id& member, const app_consumer& a, clock::time_point now);
    app_consumer* find(std::string_view stream, std::string_view consumer);

    node_context& ctx_;
    shared_counters& counters_;
    frame_sender send_;
    outbox& out_;
    settler_factory settlers_;
    std::unique_ptr<streams::stream_publisher> publisher_;   // none without a data directory
    streams::stream_consumer consumer_;
    std::map<consumer_id, app_consumer> consumers_;
    std::set<node_id> members_;
    std::uint64_t next_ticket_ = 1;
    std::map<std::uint64_t, stored_callback> waiting_;   // stored publishes, by ticket
    std::uint64_t store_failures_ = 0, frames_invalid_ = 0;
};

}  // namespace zmesh::detail
