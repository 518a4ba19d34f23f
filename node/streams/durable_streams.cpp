// SPDX-License-Identifier: MPL-2.0
// durable_streams: commands, frames and timers of a node's streams, passed to the publisher and
// consumer logic, and their decisions sent on.
#include "durable_streams.hpp"

#include "wire.hpp"
#include "protocol/stream.hpp"

#include <filesystem>

namespace zmesh::detail {

namespace {

using namespace std::chrono_literals;

// How long a consumer waits for an ANSWER, and before it asks a member without the stream
// again: such members answer at once, and a stream declared later is found within this.
constexpr auto consume_retry = 2s;
// Consumers times members: each pair is a session of the consumer logic.
constexpr std::size_t max_sessions = 1 << 16;


streams::stream_config config_of(const stream_config& c) {
    return {c.name, c.prefix, {c.limits.max_messages, c.limits.max_bytes, c.limits.max_age}};
}

stream_info info_of(const streams::stream_state& s) {
    return {{s.config.name, s.config.prefix, {s.config.limits.max_messages, s.config.limits.max_bytes, s.config.limits.max_age}},
            s.first_seq, s.last_seq, s.messages, s.bytes};
}

std::unique_ptr<streams::stream_publisher> open_publisher(const options& o, streams::stream_sink& sink) {
    if (o.data_dir.empty()) return nullptr;
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) throw std::runtime_error("cannot create data directory " + o.data_dir + ": " + ec.message());
    const auto mode = o.stream_durability == durability::fsync ? streams::durability::fsync : streams::durability::os;
    try {
        return std::make_unique<streams::stream_publisher>(
            streams::open_sqlite_store((std::filesystem::path(o.data_dir) / "streams.db").string(), mode), sink);
    } catch (const streams::store_error& e) {
        throw std::runtime_error(e.what());
    }
}

}  // namespace

stored_callback tell_promise(std::promise<void>&& p) {
    auto shared = std::make_shared<std::promise<void>>(std::move(p));
    return [shared](store_outcome o, const std::string& why) {
        if (o == store_outcome::stored)
            shared->set_value();
        else
            shared->set_exception(std::make_exception_ptr(stream_error(why)));
    };
}

streams::consume_request request_of(const consume_command& c) {
    streams::consume_request r;
    r.stream = c.stream;
    r.consumer = c.consumer;
    r.start = static_cast<streams::start_at>(c.options.start);
    r.start_value = c.options.start == stream_start::time
                        ? static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                         c.options.start_time.time_since_epoch())
                                                         .count())
                        : c.options.start_sequence;
    r.config.ack_wait = c.options.ack_wait;
    r.config.max_deliveries = c.options.max_deliveries;
    r.config.backoff = c.options.backoff;
    r.config.max_in_flight = c.options.max_in_flight;
    r.config.ordered_by_key = c.options.ordered_by_key;
    return r;
}

durable_streams::durable_streams(node_context& ctx, shared_counters& counters, frame_sender send, outbox& out,
                                 settler_factory settlers)
    : ctx_(ctx),
      counters_(counters),
      send_(std::move(send)),
      out_(out),
      settlers_(std::move(settlers)),
      consumer_(consume_retry, max_sessions) {
    publisher_ = open_publisher(ctx.opts, *this);
}

durable_streams::~durable_streams() {
    // What waits to be stored is stored now, and told so: a clean stop loses nothing.
    if (publisher_) guarded("commit", [&] { publisher_->commit(clock::now()); });
    for (auto& [ticket, tell] : waiting_) tell(store_outcome::failed, "node stopped");
}

template <class Step>
bool durable_streams::guarded(const char* what, Step&& step) {
    try {
        step();
        return true;
    } catch (const std::exception& e) {
        ++store_failures_;
        ctx_.log(log_level::error, std::string("streams: ") + what + " failed: " + e.what());
        return false;
    }
}

void durable_streams::handle(declare_stream_command& c) {
    if (!publisher_) {
        c.done.set_exception(std::make_exception_ptr(stream_error("declare_stream needs options::data_dir")));
        return;
    }
    std::string why;
    const bool ok = guarded("declare", [&] {
        try {
            publisher_->declare(config_of(c.config));
        } catch (const std::invalid_argument& e) {
            why = e.what();
        }
    });
    if (ok && why.empty())
        c.done.set_value();
    else
        c.done.set_exception(std::make_exception_ptr(stream_error(why.empty() ? "the log failed: see the log" : why)));
}

void durable_streams::handle(remove_stream_command& c) {
    bool removed = false;
    if (publisher_) guarded("remove", [&] { removed = publisher_->remove(c.name); });
    c.done.set_value(removed);
}

void durable_streams::handle(streams_query& q) {
    std::vector<stream_info> out;
    if (publisher_)
        guarded("list", [&] {
            for (const auto& s : publisher_->streams()) out.push_back(info_of(s));
        });
    q.reply.set_value(std::move(out));
}

void durable_streams::published(std::string_view topic, std::string_view key, std::span<const std::uint8_t> payload,
                                std::uint64_t time_us, const stored_callback& stored, clock::time_point now) {
    if (!publisher_) {
        if (stored) stored(store_outcome::failed, "publish_stored needs options::data_dir");
        return;
    }
    const auto ticket = next_ticket_++;
    if (stored) waiting_.emplace(ticket, stored);
    std::size_t taken = 0;
    const bool ok = guarded("append", [&] { taken = publisher_->append(topic, key, payload, time_us, ticket, now); });
    if (ok && taken > 0) return;   // told when committed
    if (const auto it = waiting_.find(ticket); it != waiting_.end()) {
        const auto tell = std::move(it->second);
        waiting_.erase(it);
        if (ok)
            tell(store_outcome::no_stream, "no stream takes topic '" + std::string(topic) + "'");
        else
            tell(store_outcome::failed, "the log failed: see the log");
    }
}

void durable_streams::stored(std::uint64_t ticket, bool ok) {
    ok ? ++ctx_.stats.stream_stored : ++store_failures_;
    const auto it = waiting_.find(ticket);
    if (it == waiting_.end()) return;
    const auto tell = std::move(it->second);
    waiting_.erase(it);
    if (ok)
        tell(store_outcome::stored, {});
    else
        tell(store_outcome::failed, "the log failed to commit: see the log");
}

void durable_streams::handle(consume_command& c, clock::time_point now) {
    auto& a = consumers_[c.id];
    a = {c.id, c.stream, c.consumer, std::move(c.handler), c.where, request_of(c)};
    for (const auto& m : members_) start(m, a, now);
}

void durable_streams::start(const node_id& member, const app_consumer& a, clock::time_point now) {
    try {
        if (consumer_.running({member, a.stream, a.consumer}))
            consumer_.publisher_link_up(member, now);
        else
            consumer_.start(member, a.request, true, now);
    } catch (const std::exception& e) {   // checked by node::consume; a bound reached
        ctx_.log(log_level::warn, "streams: consumer " + a.consumer + " of " + a.stream + " not started: " + e.what());
    }
}

void durable_streams::handle(stop_consuming_command& c) {
    const auto it = consumers_.find(c.id);
    if (it == consumers_.end()) return;
    for (const auto& m : members_) consumer_.stop({m, it->second.stream, it->second.consumer});
    consumers_.erase(it);
}

void durable_streams::handle(settle_command& c) {
    // A settle of a message not held is counted by the consumer (stream_settles_stale).
    consumer_.settle({c.publisher, c.stream, c.consumer}, c.seq, c.attempt, static_cast<streams::settle>(c.outcome),
                     c.delay, c.error);
}

void durable_streams::member_joined(const node_id& id, clock::time_point now) {
    members_.insert(id);
    for (const auto& [cid, a] : consumers_) start(id, a, now);
}

void durable_streams::member_left(const node_id& id, clock::time_point now) {
    members_.erase(id);
    consumer_.publisher_link_lost(id);
    if (publisher_) guarded("member left", [&] { publisher_->member_left(id, now); });
}

template <class Message>
void durable_streams::send(const node_id& to, const Message& m) {
    zmq::message_t frame(protocol::stream_frame_size(m));
    protocol::encode_stream(m, {frame.data<std::uint8_t>(), frame.size()});
    // Lost with its peer's link or a full queue: what it carried comes again (a DELIVER after its
    // ack wait, a CONSUME or SETTLE with the next session), and the drop is counted like any other.
    if (!send_(to, frame)) ++ctx_.stats.sends_dropped;
}

void durable_streams::deliver(const streams::member_id& to, const streams::delivery_message& d) {
    send(to, streams::to_wire(d));
}

void durable_streams::answer(const streams::member_id& to, const streams::consume_answer& a) {
    send(to, streams::to_wire(a));
}

void durable_streams::on_frame(const node_id& from, std::span<const std::uint8_t> frame, std::uint8_t type,
                            clock::time_point now) {
    const auto invalid = [&] { ++frames_invalid_; };
    switch (type) {
        case protocol::stream_deliver_type: return on_deliver(from, frame);
        case protocol::stream_answer_type: {
            const auto m = protocol::decode_stream_answer(frame);
            if (!m) return invalid();
            const auto a = streams::from_wire(*m);
            const auto status = consumer_.on_answer(from, a, now);
            if (!status) return invalid();
            if (const auto* c = find(a.stream, a.consumer);
                c && *status == streams::consume_status::ok && c->request.config.ordered_by_key != a.ordered_by_key)
                ctx_.log(log_level::warn, "streams: consumer " + a.consumer + " of " + a.stream + " is " +
                                              (a.ordered_by_key ? "" : "not ") + "ordered by key at " +
                                              from.short_hex() + ", as its first member asked");
            return;
        }
    }
    if (!publisher_) return invalid();   // a member's message for a publisher: we publish nothing
    switch (type) {
        case protocol::stream_consume_type:
            if (const auto m = protocol::decode_stream_consume(frame))
                guarded("consume", [&] { publisher_->on_consume(from, streams::from_wire(*m), now); });
            else
                invalid();
            return;
        case protocol::stream_settle_type:
            if (const auto m = protocol::decode_stream_settle(frame)) {
                guarded("settle", [&] {
                    for (const auto& s : streams::from_wire(*m)) publisher_->on_settle(from, s, now);
                });
            } else {
                invalid();
            }
            return;
        case protocol::stream_end_type:
            if (const auto m = protocol::decode_stream_end(frame))
                guarded("end", [&] { publisher_->on_consume_end(from, m->stream, m->consumer, now); });
            else
                invalid();
            return;
        default: invalid();
    }
}

durable_streams::app_consumer* durable_streams::find(std::string_view stream, std::string_view consumer) {
    for (auto& [id, a] : consumers_)
        if (a.stream == stream && a.consumer == consumer) return &a;
    return nullptr;
}

void durable_streams::on_deliver(const node_id& from, std::span<const std::uint8_t> frame) {
    const auto d = protocol::decode_stream_deliver(frame, ctx_.opts.max_event_size);
    if (!d) {
        ++frames_invalid_;
        return;
    }
    const auto handed = consumer_.on_deliver(from, *d);
    if (handed != streams::stream_consumer::handed::fresh && handed != streams::stream_consumer::handed::redelivery)
        return;
    auto* a = find(d->stream, d->consumer);
    if (!a) {
        ++frames_invalid_;
        return;
    }
    // The message owns its payload: the application may keep it past the handler.
    auto storage = std::make_shared<std::vector<std::uint8_t>>(d->payload.begin(), d->payload.end());
    const std::span<const std::uint8_t> bytes(storage->data(), storage->size());
    stream_message msg(a->stream, a->consumer, from, d->seq, d->attempt, d->time_us, std::string(d->key), bytes,
                       std::move(storage),
                       settlers_(settle_command{from, a->stream, a->consumer, d->seq, d->attempt, {}, {}, {}}));
    if (a->where == run_on::reactor)
        // Its settles are posted: they run after this. What it throws is counted and logged,
        // as the delivery thread does for handlers it runs.
        counters_.run_guarded("a stream handler", [&] { (*a->handler)(msg); });
    else
        out_.send(stream_delivery{a->handler, std::move(msg)});
}

void durable_streams::on_timers(clock::time_point now, std::uint64_t now_us) {
    consumer_.on_timer(now);
    if (publisher_) guarded("timers", [&] { publisher_->on_timers(now, now_us); });
}

durable_streams::clock::time_point durable_streams::next_deadline(clock::time_point later) const {
    auto next = later;
    if (const auto t = consumer_.next_deadline()) next = std::min(next, *t);
    if (publisher_)
        if (const auto t = publisher_->next_deadline()) next = std::min(next, *t);
    return next;
}

void durable_streams::flush() {
    if (publisher_) guarded("commit", [&] { publisher_->end_of_round(clock::now()); });
    for (auto& o : consumer_.take_outgoing()) {
        std::visit(
            [&](const auto& m) {
                using M = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<M, streams::settle_batch>)
                    send(o.to, streams::to_wire(std::span<const streams::settle_message>(m)));
                else
                    send(o.to, streams::to_wire(m));
            },
            o.message);
    }
}

void durable_streams::count(node_stats& s) const {
    const auto& c = consumer_.counters();
    const std::pair<std::uint64_t node_stats::*, std::uint64_t> values[] = {
        {&node_stats::stream_store_failures, store_failures_},
        {&node_stats::stream_consumes_refused, publisher_ ? publisher_->refused_consumes() : 0},
        {&node_stats::stream_stale_settles, publisher_ ? publisher_->stale_settles() : 0},
        {&node_stats::stream_delivered, c.delivered},
        {&node_stats::stream_redelivered, c.redelivered},
        {&node_stats::stream_duplicates_dropped, c.duplicates_dropped},
        {&node_stats::stream_overflow_dropped, c.over_limit_dropped},
        {&node_stats::stream_settles_sent, c.settles_sent},
        {&node_stats::stream_settles_stale, c.stale_settles_refused},
        {&node_stats::stream_frames_invalid, frames_invalid_ + c.unexpected_dropped},
    };
    for (const auto& [field, value] : values) s.*field = value;
}

}  // namespace zmesh::detail
