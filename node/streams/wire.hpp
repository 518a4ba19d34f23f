// SPDX-License-Identifier: MPL-2.0
// wire: the streams' messages (messages.hpp) to and from their wire form (protocol/stream.hpp).
// To the wire, the protocol structs view the values, which must outlive the encoding; from
// the wire, the values own copies of what the frame held.
#pragma once

#include "messages.hpp"
#include "protocol/stream.hpp"

#include <span>
#include <vector>

namespace zmesh::detail::streams {

// The enums are converted by value: their numbers are the wire's.
static_assert(static_cast<int>(start_at::new_records) == static_cast<int>(protocol::stream_start::new_records) &&
              static_cast<int>(start_at::first) == static_cast<int>(protocol::stream_start::first) &&
              static_cast<int>(start_at::sequence) == static_cast<int>(protocol::stream_start::sequence) &&
              static_cast<int>(start_at::time) == static_cast<int>(protocol::stream_start::time));
static_assert(static_cast<int>(settle::ack) == static_cast<int>(protocol::settle_kind::ack) &&
              static_cast<int>(settle::nak) == static_cast<int>(protocol::settle_kind::nak) &&
              static_cast<int>(settle::in_progress) == static_cast<int>(protocol::settle_kind::in_progress) &&
              static_cast<int>(settle::term) == static_cast<int>(protocol::settle_kind::term));
static_assert(static_cast<int>(consume_status::ok) == protocol::answer_ok &&
              static_cast<int>(consume_status::no_stream) == protocol::answer_no_stream &&
              static_cast<int>(consume_status::too_many) == protocol::answer_too_many);

inline protocol::stream_consume to_wire(const consume_request& r) {
    protocol::stream_consume m{r.stream, r.consumer, static_cast<protocol::stream_start>(r.start), r.start_value,
                               static_cast<std::uint64_t>(r.config.ack_wait.count()), r.config.max_deliveries, {},
                               r.config.max_in_flight,
                               r.config.ordered_by_key ? protocol::stream_order::by_key : protocol::stream_order::none};
    for (const auto step : r.config.backoff) m.backoff_ms.push_back(static_cast<std::uint64_t>(step.count()));
    return m;
}

inline consume_request from_wire(const protocol::stream_consume& m) {
    consume_request r{std::string(m.stream), std::string(m.consumer), static_cast<start_at>(m.start), m.start_value, {}};
    r.config.ack_wait = std::chrono::milliseconds(m.ack_wait_ms);
    r.config.max_deliveries = m.max_deliveries;
    r.config.backoff.clear();
    for (const auto ms : m.backoff_ms) r.config.backoff.emplace_back(ms);
    r.config.max_in_flight = m.max_in_flight;
    r.config.ordered_by_key = m.order == protocol::stream_order::by_key;
    return r;
}

inline protocol::stream_answer to_wire(const consume_answer& a) {
    return {a.stream,     a.consumer, static_cast<std::uint8_t>(a.status), a.first_seq, a.last_seq,
            a.position,   a.ordered_by_key ? protocol::stream_order::by_key : protocol::stream_order::none};
}

// A status this revision does not know stays as its number: it is not ok. An order it does
// not know is not none: first attempts may come in any order.
inline consume_answer from_wire(const protocol::stream_answer& m) {
    return {std::string(m.stream), std::string(m.consumer), static_cast<consume_status>(m.status),
            m.first_seq, m.last_seq, m.position, m.order != protocol::stream_order::none};
}

inline protocol::stream_deliver to_wire(const delivery_message& d) {
    return {d.stream, d.consumer, d.rec.seq, d.attempt, d.rec.time_us, d.rec.key, d.rec.payload};
}

inline delivery_message from_wire(const protocol::stream_deliver& m) {
    return {std::string(m.stream), std::string(m.consumer),
            record{m.seq, m.time_us, std::string(m.key), std::vector<std::uint8_t>(m.payload.begin(), m.payload.end())},
            m.attempt};
}

// `batch`: settles of one stream and consumer (the first one's names are the frame's).
inline protocol::stream_settle to_wire(std::span<const settle_message> batch) {
    // Views of the first settle's strings (not of a copy, as `cond ? "" : str` would make).
    protocol::stream_settle m;
    if (!batch.empty()) {
        m.stream = batch.front().stream;
        m.consumer = batch.front().consumer;
    }
    for (const auto& s : batch)
        m.entries.push_back({s.seq, s.attempt, static_cast<protocol::settle_kind>(s.kind),
                             static_cast<std::uint64_t>(s.delay.count()), s.error});
    return m;
}

inline std::vector<settle_message> from_wire(const protocol::stream_settle& m) {
    std::vector<settle_message> out;
    for (const auto& e : m.entries)
        out.push_back({std::string(m.stream), std::string(m.consumer), e.seq, e.attempt, static_cast<settle>(e.kind),
                       std::chrono::milliseconds(e.delay_ms), std::string(e.error)});
    return out;
}

inline protocol::stream_end to_wire(const consume_end& e) { return {e.stream, e.consumer}; }
inline consume_end from_wire(const protocol::stream_end& m) { return {std::string(m.stream), std::string(m.consumer)}; }

}  // namespace zmesh::detail::streams
