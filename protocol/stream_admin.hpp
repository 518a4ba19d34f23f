// SPDX-License-Identifier: MPL-2.0
// stream_admin: the arguments and replies of the reserved methods through which members
// administer each other's streams (PROTOCOL.md §15): `zmesh.streams`, `zmesh.stream.add`,
// `zmesh.stream.rm`, `zmesh.stream.publish`, `zmesh.dlq.ls` and `zmesh.dlq.requeue`. Each
// argument is a msgpack map with str keys; unknown keys are ignored, so later revisions may
// add some. Decoders never throw: bad input is an error to reply, with its code and text.
#pragma once

#include "result.hpp"

#include <msgpack.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace zmesh::protocol::admin {

inline constexpr std::string_view list_method = "zmesh.streams";
inline constexpr std::string_view add_method = "zmesh.stream.add";
inline constexpr std::string_view rm_method = "zmesh.stream.rm";
inline constexpr std::string_view publish_method = "zmesh.stream.publish";
inline constexpr std::string_view dlq_ls_method = "zmesh.dlq.ls";
inline constexpr std::string_view dlq_requeue_method = "zmesh.dlq.requeue";

// Returns: whether `method` is one of the reserved methods above.
bool is_reserved(std::string_view method) noexcept;
// Returns: whether `method` changes the node's log (refused without options::stream_admin).
bool is_write(std::string_view method) noexcept;

// Error codes of the REPLY (PROTOCOL.md §10.5's range for servers). -32602 is §10.5's own.
inline constexpr std::int64_t bad_arguments = -32602;
inline constexpr std::int64_t no_data_dir = -32010;
inline constexpr std::int64_t no_such_stream = -32011;
inline constexpr std::int64_t not_allowed = -32012;
inline constexpr std::int64_t too_many_streams = -32013;
inline constexpr std::int64_t no_stream_takes = -32014;
inline constexpr std::int64_t store_failed = -32015;
inline constexpr std::int64_t no_such_record = -32016;

// Bounds: what a node holds and answers for the network.
inline constexpr std::size_t max_name_len = 255;          // stream names and prefixes
inline constexpr std::size_t max_streams = 1024;          // a node's streams, dead letters included
inline constexpr std::uint64_t max_age_ms = 100ull * 365 * 24 * 3600 * 1000;   // a century
inline constexpr std::uint64_t max_page = 1000;           // dead letters in one zmesh.dlq.ls
inline constexpr std::uint64_t default_page = 100;
inline constexpr std::size_t max_reply_bytes = 256 * 1024;   // of a list or a page, past its first entry
inline constexpr std::size_t max_requeue = 10000;          // dead letters one zmesh.dlq.requeue moves

struct error {
    std::int64_t code = bad_arguments;
    std::string message;
};
template <class T>
using parsed = std::variant<T, error>;

struct list_args {
    std::string stream;   // "": every stream
    std::string after;    // a page: the streams named after it
};
struct add_args {
    std::string name, prefix;
    std::uint64_t max_messages = 0, max_bytes = 0, max_age_ms = 0;
};
struct name_args {
    std::string name;
};
struct publish_args {
    std::string topic, key;
    std::span<const std::uint8_t> payload;   // one msgpack object, viewed in the arguments
};
struct dlq_ls_args {
    std::string stream;      // the original stream: its dead letters are in "<stream>.dlq"
    std::uint64_t from = 1;  // the first dead letter's sequence
    std::uint64_t max = default_page;
};
struct requeue_args {
    std::string stream;
    std::uint64_t seq = 0;   // 0 with all
    bool all = false;
};

parsed<list_args> decode_list(std::span<const std::uint8_t> args);
parsed<add_args> decode_add(std::span<const std::uint8_t> args);
parsed<name_args> decode_rm(std::span<const std::uint8_t> args);
// `max_payload`: the node's max_event_size.
parsed<publish_args> decode_publish(std::span<const std::uint8_t> args, std::size_t max_payload);
parsed<dlq_ls_args> decode_dlq_ls(std::span<const std::uint8_t> args);
parsed<requeue_args> decode_requeue(std::span<const std::uint8_t> args);

// A dead letter as the publisher stores it in "<stream>.dlq" (a map: stream, seq, attempts,
// error, payload as bin).
struct dead_letter_body {
    std::string stream;
    std::uint64_t seq = 0;
    std::uint64_t attempts = 0;
    std::string error;
    std::span<const std::uint8_t> payload;   // viewed in the record
};
result<dead_letter_body> decode_dead_letter(std::span<const std::uint8_t> record);

// The replies, packed as maps (PROTOCOL.md §15 gives their keys).
struct consumer_report {
    std::string name;
    std::uint64_t members = 0, position = 0, pending = 0, in_flight = 0, redeliveries = 0, dead_letters = 0;
};
struct stream_report {
    std::string name, prefix;
    std::uint64_t max_messages = 0, max_bytes = 0, max_age_ms = 0;
    std::uint64_t first_seq = 0, last_seq = 0, messages = 0, bytes = 0;
    std::vector<consumer_report> consumers;
};
struct dead_letter_report {
    std::uint64_t seq = 0;   // in "<stream>.dlq"
    std::uint64_t original_seq = 0, attempts = 0, stored_us = 0;
    std::string error, key;
    std::span<const std::uint8_t> payload;   // one msgpack object, or empty: unreadable
};

void pack_stream(msgpack::packer<msgpack::sbuffer>& p, const stream_report& s);
// {"streams": [...], "more": name or nil}
std::vector<std::uint8_t> encode_list(const std::vector<stream_report>& streams, const std::string& more);
// {"stream", "first_seq", "last_seq", "messages", "dead_letters": [...], "more": seq or nil}
std::vector<std::uint8_t> encode_dlq_page(const std::string& stream, std::uint64_t first_seq, std::uint64_t last_seq,
                                          std::uint64_t messages, const std::vector<dead_letter_report>& page,
                                          std::optional<std::uint64_t> more);
// Returns: the bytes `s` takes in a reply (to keep a list within max_reply_bytes).
std::size_t packed_size(const stream_report& s);
std::size_t packed_size(const dead_letter_report& d);
// A map of unsigned counts: {"removed": 1}, {"requeued": 3, "more": false} ...
std::vector<std::uint8_t> encode_counts(std::initializer_list<std::pair<const char*, std::uint64_t>> counts);

}  // namespace zmesh::protocol::admin
