// SPDX-License-Identifier: MPL-2.0
// stream: the messages of durable streams (PROTOCOL.md §14), between a consumer's node and
// the node that publishes the stream, on the same links as control frames. Each is one frame:
//
//  offset  size  field
//  0       1     version (1)
//  1       1     type (consume 0x30, answer 0x31, deliver 0x32, settle 0x33, end 0x34)
//  2       n     msgpack array of the type's fields, trailing extra fields ignored:
//                  consume [stream, consumer, start uint, start_value uint, ack_wait_ms uint,
//                           max_deliveries uint, backoff_ms [uint...], max_in_flight uint,
//                           order uint (revision 11; absent: 0)]
//                  answer  [stream, consumer, status uint, first_seq uint, last_seq uint,
//                           position uint, order uint (revision 11; absent: 0)]
//                  deliver [stream, consumer, seq uint, attempt uint, time_us uint, key str,
//                           payload bin]
//                  settle  [stream, consumer, [[seq, attempt, kind, delay_ms, error]...]]
//                  end     [stream, consumer]
//
// Each message has one encoder, which writes the whole frame into a buffer the caller sized
// with stream_frame_size (a zmq message, sent with no further copy of a payload), and one
// decoder, which views the frame it reads: its strings and the payload point into it, so
// they live as long as that frame. Bytes only: any thread may call any of them.
#pragma once

#include "limits.hpp"
#include "result.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace zmesh::protocol {

inline constexpr std::uint8_t stream_consume_type = 0x30;
inline constexpr std::uint8_t stream_answer_type = 0x31;
inline constexpr std::uint8_t stream_deliver_type = 0x32;
inline constexpr std::uint8_t stream_settle_type = 0x33;
inline constexpr std::uint8_t stream_end_type = 0x34;
// Returns: whether `type` is a stream message's (0x30..0x3f, reserved for streams): a node
// that does not know one of them drops it as an unknown stream frame.
constexpr bool is_stream_type(std::uint8_t type) noexcept { return (type & 0xf0) == 0x30; }

// A stream's or a consumer's name, like a stream's own (stream_config): 1..255 bytes.
inline constexpr std::size_t max_stream_name_len = 255;
// A record's key ("" when none).
inline constexpr std::size_t max_record_key_len = 255;
// The longest a consumer asks records to wait for their ack, or between attempts.
inline constexpr std::uint64_t max_stream_wait_ms = 24ull * 60 * 60 * 1000;
inline constexpr std::size_t max_backoff_steps = 64;
inline constexpr std::uint64_t max_stream_deliveries = 10'000;
// Records one member may hold unsettled: the consumer's tables are sized by it.
inline constexpr std::uint64_t max_stream_in_flight = 65'536;
inline constexpr std::size_t max_settle_batch = 256;     // settles in one SETTLE
inline constexpr std::size_t max_settle_error_len = 512; // a nak's reason
// Everything of a DELIVER but its payload's bytes: version, type, the fields, the payload's
// bin header and any fields a later revision adds.
inline constexpr std::size_t max_deliver_overhead = 1024;

// A full SETTLE of the longest entries, and a CONSUME with every backoff step, fit one
// control frame (each entry at most 1 + 9 + 5 + 1 + 5 + (max_settle_error_len + 3) bytes).
static_assert(2 + 3 + 2 * (max_stream_name_len + 2) + 3 +
                      max_settle_batch * (21 + max_settle_error_len + 3) < max_control_size);
static_assert(2 * (max_stream_name_len + 2) + 64 + max_backoff_steps * 5 < max_control_size);
static_assert(2 + 1 + 2 * (max_stream_name_len + 2) + 9 + 5 + 9 + (max_record_key_len + 2) + 5 <
              max_deliver_overhead);

enum class stream_start : std::uint8_t {
    new_records = 0,   // what is stored from now on
    first = 1,         // the oldest record kept
    sequence = 2,      // the record start_value, or the oldest kept
    time = 3,          // the first record stored at or after start_value µs since the epoch
};

// How a consumer's records are handed out (CONSUME field 8, ANSWER field 6).
enum class stream_order : std::uint8_t {
    none = 0,     // any record to any member with room
    by_key = 1,   // records of one key to one member at a time, in seq order
};

enum class settle_kind : std::uint8_t { ack = 0, nak = 1, in_progress = 2, term = 3 };

// ANSWER's status; a consumer takes any other value as a refusal (a later revision's).
inline constexpr std::uint8_t answer_ok = 0;
inline constexpr std::uint8_t answer_no_stream = 1;
inline constexpr std::uint8_t answer_too_many = 2;   // the publisher takes no more consumer names

struct stream_consume {
    std::string_view stream, consumer;
    stream_start start = stream_start::new_records;
    std::uint64_t start_value = 0;
    std::uint64_t ack_wait_ms = 30'000;          // 1..max_stream_wait_ms
    std::uint32_t max_deliveries = 5;            // 1..max_stream_deliveries
    std::vector<std::uint64_t> backoff_ms;       // 0..max_backoff_steps, each 0..max_stream_wait_ms
    std::uint32_t max_in_flight = 256;           // 1..max_stream_in_flight
    stream_order order = stream_order::none;     // asked for; the consumer's first CONSUME decides
    bool operator==(const stream_consume&) const = default;
};

struct stream_answer {
    std::string_view stream, consumer;
    std::uint8_t status = answer_ok;
    std::uint64_t first_seq = 0, last_seq = 0;   // the stream's, as stored when answered
    std::uint64_t position = 0;                  // the consumer's: every record up to it is done
    stream_order order = stream_order::none;     // the consumer's, as the publisher runs it (0..255)
    bool operator==(const stream_answer&) const = default;
};

struct stream_deliver {
    std::string_view stream, consumer;
    std::uint64_t seq = 0;                       // 1..
    std::uint32_t attempt = 0;                   // 1: the first
    std::uint64_t time_us = 0;                   // stored at, µs since the Unix epoch
    std::string_view key;                        // 0..max_record_key_len
    std::span<const std::uint8_t> payload;       // the record's bytes, not checked here
};

struct stream_settle_entry {
    std::uint64_t seq = 0;                       // 1..
    std::uint32_t attempt = 0;                   // 1..: the attempt it answers
    settle_kind kind = settle_kind::ack;
    std::uint64_t delay_ms = 0;                  // nak: 0..max_stream_wait_ms; else 0
    std::string_view error;                      // nak: 0..max_settle_error_len; else ""
    bool operator==(const stream_settle_entry&) const = default;
};

struct stream_settle {
    std::string_view stream, consumer;
    std::vector<stream_settle_entry> entries;    // 1..max_settle_batch, in the order made
    bool operator==(const stream_settle&) const = default;
};

struct stream_end {
    std::string_view stream, consumer;
    bool operator==(const stream_end&) const = default;
};

// Returns: the size of the frame of `m`, exactly what encode_stream writes. Never throws.
std::size_t stream_frame_size(const stream_consume& m) noexcept;
std::size_t stream_frame_size(const stream_answer& m) noexcept;
std::size_t stream_frame_size(const stream_deliver& m) noexcept;
std::size_t stream_frame_size(const stream_settle& m) noexcept;
std::size_t stream_frame_size(const stream_end& m) noexcept;

// Writes the frame of `m` into `out`, which must be stream_frame_size(m) bytes. Every field
// takes its shortest msgpack encoding.
// Throws: std::length_error, writing nothing, for a field out of the bounds above (which the
// decoder would refuse) or an `out` of another size.
void encode_stream(const stream_consume& m, std::span<std::uint8_t> out);
void encode_stream(const stream_answer& m, std::span<std::uint8_t> out);
void encode_stream(const stream_deliver& m, std::span<std::uint8_t> out);
void encode_stream(const stream_settle& m, std::span<std::uint8_t> out);
void encode_stream(const stream_end& m, std::span<std::uint8_t> out);

// Returns: the frame of `m` in a buffer of its own (for the messages that are not the hot
// path; a DELIVER is better encoded into its zmq message). Throws as encode_stream.
template <class Message>
std::vector<std::uint8_t> encode_stream_frame(const Message& m) {
    std::vector<std::uint8_t> out(stream_frame_size(m));
    encode_stream(m, out);
    return out;
}

// Each returns: the message in `frame`, viewed in it; or an errc: truncated, bad_version,
// unknown_type (another type), wrong_type or bad_msgpack (a field missing or mistyped),
// bad_field (a value out of its range: an empty name, seq 0, attempt 0, an unknown start,
// order or settle kind, ...), oversized (a string, a list or the frame over its bound). Never throws.
// CONSUME, ANSWER, SETTLE and END are at most max_control_size bytes.
result<stream_consume> decode_stream_consume(std::span<const std::uint8_t> frame);
result<stream_answer> decode_stream_answer(std::span<const std::uint8_t> frame);
// A payload over `max_payload` bytes (the receiver's max_event_size), or more than
// max_deliver_overhead bytes around it, is oversized. Nothing of the frame is copied.
result<stream_deliver> decode_stream_deliver(std::span<const std::uint8_t> frame,
                                             std::size_t max_payload = default_max_event_size);
result<stream_settle> decode_stream_settle(std::span<const std::uint8_t> frame);
result<stream_end> decode_stream_end(std::span<const std::uint8_t> frame);

}  // namespace zmesh::protocol
