// SPDX-License-Identifier: MPL-2.0
// event: the body codec, hand-rolled because it runs once per event: no object tree,
// no allocation.
#include "event.hpp"

#include "msgpack_io.hpp"

#include <cstring>

namespace zmesh::protocol {

namespace {

void put_u64(std::uint8_t* out, std::uint64_t v) {
    out[0] = 0xcf;   // msgpack uint 64
    write_big_endian(out + 1, v, 8);
}

// Reads a msgpack unsigned integer of any width at `at`. Returns: nothing, or truncated /
// wrong_type.
std::optional<errc> get_uint(std::span<const std::uint8_t> b, std::size_t& at,
                             std::uint64_t& out) {
    if (at >= b.size()) return errc::truncated;
    const std::uint8_t tag = b[at++];
    if (tag <= 0x7f) {
        out = tag;
        return std::nullopt;
    }
    std::size_t width = 0;
    switch (tag) {
        case 0xcc: width = 1; break;
        case 0xcd: width = 2; break;
        case 0xce: width = 4; break;
        case 0xcf: width = 8; break;
        default: return errc::wrong_type;
    }
    if (b.size() - at < width) return errc::truncated;
    out = 0;
    for (std::size_t i = 0; i < width; ++i) out = (out << 8) | b[at++];
    return std::nullopt;
}

}  // namespace

void write_event_header(const event_header& h, std::span<std::uint8_t, event_header_size> out) {
    out[0] = version;
    out[1] = event_type;
    out[2] = 0x93;   // fixarray of 3
    out[3] = 0xc4;   // bin 8
    out[4] = node_id::size;
    std::memcpy(&out[5], h.sender.bytes().data(), node_id::size);
    put_u64(&out[5 + node_id::size], h.seq);
    put_u64(&out[5 + node_id::size + 9], h.sent_us);
}

std::array<std::uint8_t, event_header_size> encode_event_header(const event_header& h) {
    std::array<std::uint8_t, event_header_size> out{};
    write_event_header(h, out);
    return out;
}

namespace {

// Fills `e` from `frame`. Returns: nothing, or why it cannot.
std::optional<errc> parse_event(std::span<const std::uint8_t> frame, event_header& h,
                                std::span<const std::uint8_t>& payload) {
    if (frame.size() < 2) return errc::truncated;
    if (frame[0] != version) return errc::bad_version;
    if (frame[1] != event_type) return errc::unknown_type;
    // Only the header is parsed here: however large the payload, the work is bounded.
    const auto b = frame.first(std::min(frame.size(), max_event_header_size));
    std::size_t at = 2;
    if (at >= b.size()) return errc::truncated;
    // fixarray, array 16 or array 32 of at least 3 elements
    std::uint64_t count = 0;
    const std::uint8_t tag = b[at++];
    if ((tag & 0xf0) == 0x90) {
        count = tag & 0x0f;
    } else if (tag == 0xdc || tag == 0xdd) {
        const std::size_t width = tag == 0xdc ? 2 : 4;
        if (b.size() - at < width) return errc::truncated;
        for (std::size_t i = 0; i < width; ++i) count = (count << 8) | b[at++];
    } else {
        return errc::wrong_type;
    }
    if (count < 3) return errc::wrong_type;
    if (b.size() - at < 2) return errc::truncated;
    if (b[at] != 0xc4 || b[at + 1] != node_id::size) return errc::wrong_type;
    if (b.size() - at < 2 + node_id::size) return errc::truncated;
    at += 2;
    h.sender = *node_id::from_bytes(b.subspan(at, node_id::size));
    at += node_id::size;
    if (h.sender.empty()) return errc::bad_field;
    if (auto err = get_uint(b, at, h.seq)) return *err;
    if (auto err = get_uint(b, at, h.sent_us)) return *err;
    if (h.seq == 0) return errc::bad_field;
    // Fields a later revision may add: must be well-formed and end within the header limit,
    // are otherwise ignored.
    if (count > 3) {
        if (count > 64) return errc::oversized;
        const auto end = skip_msgpack(b.subspan(at), static_cast<std::size_t>(count - 3), 8);
        if (!end) return end.error() == errc::truncated && b.size() < frame.size()
                             ? errc::oversized
                             : end.error();
        at += *end;
    }
    payload = frame.subspan(at);
    return std::nullopt;
}

}  // namespace

result<event_body> decode_event(std::span<const std::uint8_t> body) {
    // One object, filled in place and returned by NRVO: decoding runs once per event, and
    // makes no copy of its result.
    result<event_body> out{event_body{}};
    if (const auto error = parse_event(body, out->header, out->payload)) out = *error;
    return out;
}

void lay_out_event_frame(std::string_view topic, std::span<const std::uint8_t> payload,
                         std::span<std::uint8_t> out) {
    std::memcpy(out.data(), topic.data(), topic.size());
    std::memset(out.data() + topic.size(), 0, 1 + event_header_size);
    if (!payload.empty())
        std::memcpy(out.data() + topic.size() + 1 + event_header_size, payload.data(),
                    payload.size());
}

std::vector<std::uint8_t> encode_event_frame(std::string_view topic, const event_header& h,
                                             std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out(event_frame_size(topic.size(), payload.size()));
    lay_out_event_frame(topic, payload, out);
    write_event_header(h, std::span(out).subspan(event_body_offset(topic.size())).first<event_header_size>());
    return out;
}

result<std::size_t> event_topic_size(std::span<const std::uint8_t> frame) {
    if (frame.empty()) return errc::truncated;   // memchr of a null pointer is undefined
    const auto window = frame.first(std::min(frame.size(), max_topic_len + 1));
    const auto* end = static_cast<const std::uint8_t*>(std::memchr(window.data(), 0, window.size()));
    if (!end) return window.size() < frame.size() ? errc::oversized : errc::truncated;
    if (end == window.data()) return errc::bad_field;
    return static_cast<std::size_t>(end - window.data());
}

result<event_frame> decode_event_frame(std::span<const std::uint8_t> frame) {
    // Filled in place and returned by NRVO, like decode_event.
    result<event_frame> out{event_frame{}};
    const auto topic_size = event_topic_size(frame);
    if (!topic_size) {
        out = topic_size.error();
    } else if (const auto error = parse_event(frame.subspan(event_body_offset(*topic_size)),
                                              out->header, out->payload)) {
        out = *error;
    } else {
        out->topic = {reinterpret_cast<const char*>(frame.data()), *topic_size};
    }
    return out;
}

std::optional<errc> check_topic(std::string_view topic) noexcept {
    if (topic.empty()) return errc::bad_field;
    if (topic.size() > max_topic_len) return errc::oversized;
    if (topic.find('\0') != std::string_view::npos) return errc::bad_field;
    return std::nullopt;
}

std::optional<errc> check_payload(std::span<const std::uint8_t> payload,
                                  std::size_t max_size) noexcept {
    if (payload.size() > max_size) return errc::oversized;
    return check_msgpack(payload);
}

}  // namespace zmesh::protocol
