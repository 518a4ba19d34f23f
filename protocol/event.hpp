// SPDX-License-Identifier: MPL-2.0
// event: the two frames one published event travels in, PUB to SUB.
//
//  frame 0  topic     1..255 bytes, no NUL; SUB prefix filtering runs on this frame
//  frame 1  body      offset  size  field
//                     0       1     version (1)
//                     1       1     type (event 0x20)
//                     2       n     msgpack array [sender id bin16, seq uint, sent_us uint],
//                                   extra trailing elements ignored (the header ends here)
//                     2+n     rest  payload: exactly one msgpack object, at most the
//                                   receiver's max_event_size
//
// Header and payload share a frame because every frame costs a send, a receive and a pass
// of libzmq's encoder on both sides (a third frame cost raw libzmq a quarter of its rate).
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

// A decoded body frame: the header, and the payload bytes after it (not yet checked).
struct event_body {
    event_header header;
    std::span<const std::uint8_t> payload;
};

// Returns: the header at the start of `frame` and the bytes after it, or an errc (any valid
// msgpack unsigned width is accepted). Never throws.
result<event_body> decode_event(std::span<const std::uint8_t> frame);

// Returns: nothing when `topic` may be published: 1..max_topic_len bytes without NUL.
std::optional<errc> check_topic(std::string_view topic) noexcept;

// Returns: nothing when `payload` is exactly one msgpack object of at most `max_size` bytes.
std::optional<errc> check_payload(std::span<const std::uint8_t> payload,
                                  std::size_t max_size) noexcept;

}  // namespace zmesh::protocol
