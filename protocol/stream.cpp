// SPDX-License-Identifier: MPL-2.0
// stream: encode and strictly decode CONSUME, ANSWER, DELIVER, SETTLE and END frames.
#include "stream.hpp"

#include "msgpack_io.hpp"

#include <stdexcept>
#include <string>
#include <type_traits>

namespace zmesh::protocol {

namespace {

// ---- encoding ---------------------------------------------------------------------------

// One field, as the wire has it: names, keys and errors as str, the payload as bin, enums as
// their numbers, lists as arrays.
template <class Writer>
void put(msgpack::packer<Writer>& pk, std::string_view s) {
    pk.pack_str(static_cast<std::uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}
template <class Writer>
void put(msgpack::packer<Writer>& pk, std::span<const std::uint8_t> bin) {
    pk.pack_bin(static_cast<std::uint32_t>(bin.size()));
    pk.pack_bin_body(reinterpret_cast<const char*>(bin.data()), static_cast<std::uint32_t>(bin.size()));
}
template <class Writer, class Number>
    requires std::is_arithmetic_v<Number>
void put(msgpack::packer<Writer>& pk, Number n) {
    pk.pack(n);
}
template <class Writer, class Enum>
    requires std::is_enum_v<Enum>
void put(msgpack::packer<Writer>& pk, Enum e) {
    pk.pack(static_cast<std::uint8_t>(e));
}
template <class Writer>
void put(msgpack::packer<Writer>& pk, const std::vector<std::uint64_t>& list) {
    pk.pack_array(static_cast<std::uint32_t>(list.size()));
    for (const auto v : list) pk.pack(v);
}
template <class Writer>
void put(msgpack::packer<Writer>& pk, const std::vector<stream_settle_entry>& entries);
template <class Writer, class... Fields>
void put_array(msgpack::packer<Writer>& pk, const Fields&... fields) {
    pk.pack_array(sizeof...(Fields));
    (put(pk, fields), ...);
}
template <class Writer>
void put(msgpack::packer<Writer>& pk, const std::vector<stream_settle_entry>& entries) {
    pk.pack_array(static_cast<std::uint32_t>(entries.size()));
    for (const auto& e : entries) put_array(pk, e.seq, e.attempt, e.kind, e.delay_ms, e.error);
}

// A whole frame: version, type, then the array of `fields`.
template <class Writer, class... Fields>
void pack_frame(Writer& w, std::uint8_t type, const Fields&... fields) {
    start_frame(w, type);
    msgpack::packer<Writer> pk(w);
    put_array(pk, fields...);
}

// The one layout of each frame, for counting and for writing.
template <class Writer>
void pack(Writer& w, const stream_consume& m) {
    pack_frame(w, stream_consume_type, m.stream, m.consumer, m.start, m.start_value, m.ack_wait_ms, m.max_deliveries,
               m.backoff_ms, m.max_in_flight, m.order);
}
template <class Writer>
void pack(Writer& w, const stream_answer& m) {
    pack_frame(w, stream_answer_type, m.stream, m.consumer, m.status, m.first_seq, m.last_seq, m.position, m.order);
}
template <class Writer>
void pack(Writer& w, const stream_deliver& m) {
    pack_frame(w, stream_deliver_type, m.stream, m.consumer, m.seq, m.attempt, m.time_us, m.key, m.payload);
}
template <class Writer>
void pack(Writer& w, const stream_settle& m) {
    pack_frame(w, stream_settle_type, m.stream, m.consumer, m.entries);
}
template <class Writer>
void pack(Writer& w, const stream_end& m) {
    pack_frame(w, stream_end_type, m.stream, m.consumer);
}

void require(bool ok, const char* what) {
    if (!ok) throw std::length_error(std::string("stream frame: ") + what);
}

bool good_name(std::string_view s) { return !s.empty() && s.size() <= max_stream_name_len; }

void check_names(std::string_view stream, std::string_view consumer) {
    require(good_name(stream) && good_name(consumer), "names must be 1..255 bytes");
}

// The bounds the decoder enforces, so that no encoder writes what a receiver refuses.
void check(const stream_consume& m) {
    check_names(m.stream, m.consumer);
    require(static_cast<std::uint8_t>(m.start) <= static_cast<std::uint8_t>(stream_start::time), "unknown start");
    require(m.ack_wait_ms >= 1 && m.ack_wait_ms <= max_stream_wait_ms, "ack_wait_ms out of range");
    require(m.max_deliveries >= 1 && m.max_deliveries <= max_stream_deliveries, "max_deliveries out of range");
    require(m.backoff_ms.size() <= max_backoff_steps, "too many backoff steps");
    for (const auto ms : m.backoff_ms) require(ms <= max_stream_wait_ms, "backoff step out of range");
    require(m.max_in_flight >= 1 && m.max_in_flight <= max_stream_in_flight, "max_in_flight out of range");
    require(static_cast<std::uint8_t>(m.order) <= static_cast<std::uint8_t>(stream_order::by_key), "unknown order");
}
void check(const stream_answer& m) { check_names(m.stream, m.consumer); }
void check(const stream_deliver& m) {
    check_names(m.stream, m.consumer);
    require(m.seq >= 1 && m.attempt >= 1, "seq and attempt start at 1");
    require(m.key.size() <= max_record_key_len, "key over 255 bytes");
}
void check(const stream_settle& m) {
    check_names(m.stream, m.consumer);
    require(!m.entries.empty() && m.entries.size() <= max_settle_batch, "1..256 settles a frame");
    for (const auto& e : m.entries) {
        require(e.seq >= 1 && e.attempt >= 1, "seq and attempt start at 1");
        require(static_cast<std::uint8_t>(e.kind) <= static_cast<std::uint8_t>(settle_kind::term), "unknown kind");
        require(e.delay_ms <= max_stream_wait_ms, "delay_ms out of range");
        require(e.error.size() <= max_settle_error_len, "error over 512 bytes");
    }
}
void check(const stream_end& m) { check_names(m.stream, m.consumer); }

template <class Message>
std::size_t size_of(const Message& m) noexcept {
    size_counter c;
    pack(c, m);
    return c.size;
}

template <class Message>
void encode(const Message& m, std::span<std::uint8_t> out) {
    check(m);
    require(out.size() == size_of(m), "buffer is not stream_frame_size bytes");
    span_writer w{out.data()};
    pack(w, m);
}

// ---- decoding ---------------------------------------------------------------------------

using maybe_error = std::optional<errc>;

maybe_error read_name(span_reader& r, std::string_view& out) {
    if (auto e = r.str(out, max_stream_name_len)) return e;
    if (out.empty()) return errc::bad_field;
    return std::nullopt;
}

template <class Number>
maybe_error read_uint(span_reader& r, Number& out, std::uint64_t min, std::uint64_t max) {
    std::uint64_t v = 0;
    if (auto e = r.uint(v)) return e;
    if (v < min || v > max) return errc::bad_field;
    out = static_cast<Number>(v);
    return std::nullopt;
}

maybe_error read_names(span_reader& r, std::string_view& stream, std::string_view& consumer) {
    if (auto e = read_name(r, stream)) return e;
    return read_name(r, consumer);
}

// Returns: the message of `type` in `frame`, its `known_fields` read by `read_fields` (after
// version, type and the array's size), the fields after them skipped; or an errc. A
// `read_fields` that takes the count of those extra fields reads the optional ones a later
// revision added, taking them off the count.
template <class Message, class ReadFields>
result<Message> decode(std::span<const std::uint8_t> frame, std::uint8_t type, std::uint64_t known_fields,
                       std::size_t max_size, ReadFields read_fields) {
    result<Message> out{Message{}};   // filled in place, not copied
    span_reader r(frame.size() > 2 ? frame.subspan(2) : std::span<const std::uint8_t>{});
    std::uint64_t extra = 0;
    auto e = open_frame(frame, type, known_fields, r, extra);
    if (!e && frame.size() > max_size) e = errc::oversized;
    if (!e) {
        if constexpr (std::is_invocable_v<ReadFields, span_reader&, Message&, std::uint64_t&>)
            e = read_fields(r, *out, extra);
        else
            e = read_fields(r, *out);
    }
    if (!e) e = r.skip(static_cast<std::size_t>(extra), max_extra_field_depth);
    if (!e && !r.at_end()) e = errc::bad_msgpack;   // bytes after the array
    if (e) out = *e;
    return out;
}

// An optional field (absent: none), taken off `extra` when present; at most `max`.
maybe_error read_order(span_reader& r, stream_order& out, std::uint64_t& extra, std::uint8_t max) {
    if (extra == 0) return std::nullopt;
    --extra;
    std::uint8_t v = 0;
    auto e = read_uint(r, v, 0, max);
    out = static_cast<stream_order>(v);
    return e;
}

maybe_error read_backoff(span_reader& r, std::vector<std::uint64_t>& out) {
    std::uint64_t count = 0;
    if (auto e = r.array(count)) return e;
    if (count > max_backoff_steps) return errc::oversized;
    out.resize(static_cast<std::size_t>(count));
    for (auto& ms : out)
        if (auto e = read_uint(r, ms, 0, max_stream_wait_ms)) return e;
    return std::nullopt;
}

maybe_error read_settle_entry(span_reader& r, stream_settle_entry& s) {
    std::uint64_t fields = 0;
    if (auto e = r.array(fields)) return e;
    if (fields < 5) return errc::wrong_type;
    if (fields > max_frame_fields) return errc::oversized;
    std::uint8_t kind = 0;
    auto e = read_uint(r, s.seq, 1, UINT64_MAX);
    if (!e) e = read_uint(r, s.attempt, 1, UINT32_MAX);
    if (!e) e = read_uint(r, kind, 0, static_cast<std::uint8_t>(settle_kind::term));
    if (!e) e = read_uint(r, s.delay_ms, 0, max_stream_wait_ms);
    if (!e) e = r.str(s.error, max_settle_error_len);
    if (!e) e = r.skip(static_cast<std::size_t>(fields - 5), max_extra_field_depth);
    s.kind = static_cast<settle_kind>(kind);
    return e;
}

}  // namespace

std::size_t stream_frame_size(const stream_consume& m) noexcept { return size_of(m); }
std::size_t stream_frame_size(const stream_answer& m) noexcept { return size_of(m); }
std::size_t stream_frame_size(const stream_deliver& m) noexcept { return size_of(m); }
std::size_t stream_frame_size(const stream_settle& m) noexcept { return size_of(m); }
std::size_t stream_frame_size(const stream_end& m) noexcept { return size_of(m); }

void encode_stream(const stream_consume& m, std::span<std::uint8_t> out) { encode(m, out); }
void encode_stream(const stream_answer& m, std::span<std::uint8_t> out) { encode(m, out); }
void encode_stream(const stream_deliver& m, std::span<std::uint8_t> out) { encode(m, out); }
void encode_stream(const stream_settle& m, std::span<std::uint8_t> out) { encode(m, out); }
void encode_stream(const stream_end& m, std::span<std::uint8_t> out) { encode(m, out); }

result<stream_consume> decode_stream_consume(std::span<const std::uint8_t> frame) {
    return decode<stream_consume>(frame, stream_consume_type, 8, max_control_size,
                                  [](span_reader& r, stream_consume& m, std::uint64_t& extra) {
        std::uint8_t start = 0;
        auto e = read_names(r, m.stream, m.consumer);
        if (!e) e = read_uint(r, start, 0, static_cast<std::uint8_t>(stream_start::time));
        if (!e) e = read_uint(r, m.start_value, 0, UINT64_MAX);
        if (!e) e = read_uint(r, m.ack_wait_ms, 1, max_stream_wait_ms);
        if (!e) e = read_uint(r, m.max_deliveries, 1, max_stream_deliveries);
        if (!e) e = read_backoff(r, m.backoff_ms);
        if (!e) e = read_uint(r, m.max_in_flight, 1, max_stream_in_flight);
        if (!e) e = read_order(r, m.order, extra, static_cast<std::uint8_t>(stream_order::by_key));
        m.start = static_cast<stream_start>(start);
        return e;
    });
}

result<stream_answer> decode_stream_answer(std::span<const std::uint8_t> frame) {
    return decode<stream_answer>(frame, stream_answer_type, 6, max_control_size,
                                 [](span_reader& r, stream_answer& m, std::uint64_t& extra) {
        auto e = read_names(r, m.stream, m.consumer);
        if (!e) e = read_uint(r, m.status, 0, 255);
        if (!e) e = read_uint(r, m.first_seq, 0, UINT64_MAX);
        if (!e) e = read_uint(r, m.last_seq, 0, UINT64_MAX);
        if (!e) e = read_uint(r, m.position, 0, UINT64_MAX);
        // A later revision's order is taken as one that is not none (§14.8 rule 4).
        if (!e) e = read_order(r, m.order, extra, 255);
        return e;
    });
}

result<stream_deliver> decode_stream_deliver(std::span<const std::uint8_t> frame, std::size_t max_payload) {
    const auto max_size = max_payload > SIZE_MAX - max_deliver_overhead ? SIZE_MAX : max_payload + max_deliver_overhead;
    auto out = decode<stream_deliver>(frame, stream_deliver_type, 7, max_size, [&](span_reader& r, stream_deliver& m) {
        auto e = read_names(r, m.stream, m.consumer);
        if (!e) e = read_uint(r, m.seq, 1, UINT64_MAX);
        if (!e) e = read_uint(r, m.attempt, 1, UINT32_MAX);
        if (!e) e = read_uint(r, m.time_us, 0, UINT64_MAX);
        if (!e) e = r.str(m.key, max_record_key_len);
        if (!e) e = r.bin(m.payload, max_payload);
        return e;
    });
    if (out && frame.size() - out->payload.size() > max_deliver_overhead) return errc::oversized;
    return out;
}

result<stream_settle> decode_stream_settle(std::span<const std::uint8_t> frame) {
    return decode<stream_settle>(frame, stream_settle_type, 3, max_control_size, [](span_reader& r, stream_settle& m) {
        std::uint64_t count = 0;
        auto e = read_names(r, m.stream, m.consumer);
        if (!e) e = r.array(count);
        if (!e && count == 0) e = errc::bad_field;
        if (!e && count > max_settle_batch) e = errc::oversized;
        if (e) return e;
        m.entries.resize(static_cast<std::size_t>(count));
        for (auto& entry : m.entries)
            if ((e = read_settle_entry(r, entry))) return e;
        return e;
    });
}

result<stream_end> decode_stream_end(std::span<const std::uint8_t> frame) {
    return decode<stream_end>(frame, stream_end_type, 2, max_control_size, [](span_reader& r, stream_end& m) {
        return read_names(r, m.stream, m.consumer);
    });
}

}  // namespace zmesh::protocol
