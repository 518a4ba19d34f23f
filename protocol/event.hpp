// SPDX-License-Identifier: MPL-2.0
// event: the one frame a published event travels in, PUB to SUB.
//
//  offset  size  field
//  0       t     topic: 1..255 bytes, no NUL; SUB prefix filtering runs on the frame's start
//  t       1     00: ends the topic
//  t+1     1     version (1)          the body: header, then payload, from here
//  t+2     1     type (event 0x20)
//  t+3     n     msgpack array [sender id bin16, seq uint, sent_us uint],
//                extra trailing elements ignored (the header ends here)
//  t+3+n   rest  payload: exactly one msgpack object, at most the receiver's max_event_size
//
// One frame, not [topic][body]: every frame costs a send, a receive and a pass of libzmq's
// encoder and decoder on both sides, work that does not shrink with the payload, so small
// events pay it in full (PROTOCOL.md, Appendix C, revision 4).
// seq counts per (sender, topic) from 1, so a subscriber of any prefix can see gaps.
#pragma once

#include "limits.hpp"
#include "node_id.hpp"
#include "result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace zmesh::protocol {

inline constexpr std::uint8_t event_type = 0x20;

struct event_header {
    node_id sender;
    std::uint64_t seq = 0;       // 1, 2, 3... per (sender, topic)
    std::uint64_t sent_us = 0;   // sender's system clock, µs since the Unix epoch
    bool operator==(const event_header&) const = default;
};

// The encoder always writes fixed-width integers, so a header has one size.
inline constexpr std::size_t event_header_size = 2 + 1 + 2 + node_id::size + 9 + 9;
// A header from another encoder may be longer (extra fields), never more than this.
inline constexpr std::size_t max_event_header_size = 1024;

// Writes the header into the first event_header_size bytes of `out`. Never fails.
void write_event_header(const event_header& h, std::span<std::uint8_t, event_header_size> out);
// Returns: the header alone. Never fails.
std::array<std::uint8_t, event_header_size> encode_event_header(const event_header& h);

// A decoded body: the header, and the payload bytes after it (not yet checked).
struct event_body {
    event_header header;
    std::span<const std::uint8_t> payload;
};

// Returns: the header at the start of `body` and the bytes after it, or an errc (any valid
// msgpack unsigned width is accepted). Never throws.
result<event_body> decode_event(std::span<const std::uint8_t> body);

// Returns: the size of an event frame with a topic of `topic_size` bytes and a payload of
// `payload_size` bytes, written by the reference encoder.
constexpr std::size_t event_frame_size(std::size_t topic_size, std::size_t payload_size) {
    return topic_size + 1 + event_header_size + payload_size;
}
// Returns: where the body starts in a frame whose topic is `topic_size` bytes.
constexpr std::size_t event_body_offset(std::size_t topic_size) { return topic_size + 1; }

// Fills `out` (event_frame_size bytes) with `topic`, its 00, room for the header (zeros:
// write_event_header fills it later, in place) and `payload`. Never fails.
void lay_out_event_frame(std::string_view topic, std::span<const std::uint8_t> payload,
                         std::span<std::uint8_t> out);
// Returns: a whole frame. Never fails.
std::vector<std::uint8_t> encode_event_frame(std::string_view topic, const event_header& h,
                                             std::span<const std::uint8_t> payload);

// Returns: the size of the frame's topic (the bytes before its first 00), or bad_field for
// an empty topic, oversized when no 00 comes within max_topic_len + 1 bytes, truncated when
// the frame ends before one. Never throws.
result<std::size_t> event_topic_size(std::span<const std::uint8_t> frame);

// A decoded frame; the views point into it.
struct event_frame {
    std::string_view topic;
    event_header header;
    std::span<const std::uint8_t> payload;   // not yet checked
};
// Returns: the frame's topic, header and payload, or the first errc of event_topic_size
// and decode_event. Never throws.
result<event_frame> decode_event_frame(std::span<const std::uint8_t> frame);

// Returns: nothing when `topic` may be published: 1..max_topic_len bytes without NUL.
std::optional<errc> check_topic(std::string_view topic) noexcept;

// Returns: nothing when `payload` is exactly one msgpack object of at most `max_size` bytes.
std::optional<errc> check_payload(std::span<const std::uint8_t> payload,
                                  std::size_t max_size) noexcept;

}  // namespace zmesh::protocol
