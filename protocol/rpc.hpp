// SPDX-License-Identifier: MPL-2.0
// rpc: the two messages of a call, from the caller's link (or call link) to the server's
// ROUTER and back on the same connection. Each is one frame, the header and then the body:
//
//  offset  size  field
//  0       1     version (1)
//  1       1     type (request 0x10, reply 0x11)
//  2       n     header: msgpack array, trailing extra elements ignored:
//                  request [id uint, method str 1..128, timeout_ms uint]
//                  reply   [id uint, code int (0 = ok), message str]
//  2+n     rest  body: the arguments (request) or the result (reply; nil on error), exactly
//                one msgpack object
//
// One frame, not [header][body]: like an event's, each frame costs a send, a receive and a
// pass of libzmq's encoder and decoder on both sides, work that does not shrink with the
// call (PROTOCOL.md, Appendix C, revision 5).
//
// Each message has one encoder, which writes the whole frame into a buffer the caller sized
// with its *_size function (a zmq message, sent with no further copy), and one decoder, which
// views the frame it reads. Bytes only: any thread may call any of them.
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

inline constexpr std::uint8_t request_type = 0x10;
inline constexpr std::uint8_t reply_type = 0x11;

// Codes a server itself puts in a reply (applications use any other int; 0 is success).
enum rpc_code : std::int64_t {
    rpc_ok = 0,
    rpc_no_such_method = -32601,   // nothing registered under that name
    rpc_bad_request = -32602,      // the arguments are not one msgpack object
    rpc_handler_failed = -32603,   // the handler threw something other than an rpc_error
    rpc_busy = -32000,             // the server's queue is full
};

// The headers. Their strings are views: the encoder copies them into the frame, and the
// decoder points them into the frame it read, so they live as long as that frame.
struct request_header {
    std::uint64_t id = 0;            // the caller's, echoed in the reply
    std::string_view method;         // 1..max_service_len bytes
    std::uint64_t timeout_ms = 0;    // time the caller still waits: relative, clocks differ
    bool operator==(const request_header&) const = default;
};
struct reply_header {
    std::uint64_t id = 0;
    std::int64_t code = rpc_ok;
    std::string_view message;        // 0..max_rpc_message_len bytes; empty on success
    bool operator==(const reply_header&) const = default;
};

// A decoded frame: its header, and the body after it (a view into the frame, not checked:
// the receiver checks it is one msgpack object within its own size limit).
template <class Header>
struct rpc_message {
    Header header;
    std::span<const std::uint8_t> body;
};
using request_message = rpc_message<request_header>;
using reply_message = rpc_message<reply_header>;

// Version, type and header are at most this long (the longest method or error message, and
// room for extra fields); a decoder reads only this much of a frame to find the body.
inline constexpr std::size_t max_rpc_header_size = 2 + max_service_len + max_rpc_message_len + 64;

// ---- REQUEST ----------------------------------------------------------------------------

// Returns: the size of the REQUEST frame of `h` and a body of `body_size` bytes, exactly what
// encode_request writes. Never throws.
std::size_t request_size(const request_header& h, std::size_t body_size) noexcept;

// Writes the REQUEST frame of `h` and `body` into `out`, which must be request_size bytes.
// The id is always a uint 64 (0xcf and 8 bytes, PROTOCOL.md §10.4), so the frame's size does
// not depend on it: a caller builds its frame before the id is known, and finishes it by
// encoding the same header with the id into the same buffer. `h.method` and `body` may
// already lie in `out` exactly where this writes them (then they are not copied onto
// themselves); they overlap it nowhere else.
// Throws: std::length_error, writing nothing, for a method that is not 1..max_service_len
// bytes or an `out` of another size.
void encode_request(const request_header& h, std::span<const std::uint8_t> body,
                    std::span<std::uint8_t> out);

// Returns: the header and body of the REQUEST `frame`, viewed in it; or an errc: truncated,
// bad_version, unknown_type (not a REQUEST), wrong_type or bad_msgpack (a field missing or
// mistyped), bad_field (an empty method), oversized (a method over max_service_len, or no
// header ending within max_rpc_header_size bytes). Never throws.
result<request_message> decode_request(std::span<const std::uint8_t> frame);

// ---- REPLY ------------------------------------------------------------------------------

// Returns: the size of the REPLY frame of `h` and a body of `body_size` bytes, exactly what
// encode_reply writes. Never throws.
std::size_t reply_size(const reply_header& h, std::size_t body_size) noexcept;

// Writes the REPLY frame of `h` and `body` into `out`, which must be reply_size bytes. Every
// field takes its shortest encoding (PROTOCOL.md §10.4).
// Throws: std::length_error, writing nothing, for a message over max_rpc_message_len or an
// `out` of another size.
void encode_reply(const reply_header& h, std::span<const std::uint8_t> body, std::span<std::uint8_t> out);

// Returns: the header and body of the REPLY `frame`, viewed in it; or an errc, as
// decode_request (oversized: a message over max_rpc_message_len, or no header ending within
// max_rpc_header_size bytes). A filler (field 3, sent by revision-7 and -8 nodes) is skipped
// like any other extra field. Never throws.
result<reply_message> decode_reply(std::span<const std::uint8_t> frame);

// ---- routing ids ------------------------------------------------------------------------

// Who sent a message to a ROUTER, from its routing id (§6.1): a node's id (its link, the
// dialler's connection), or a node's id then 'C' (one of its call links: a DEALER of its own
// per peer it calls, §4.2, on which only REQUESTs come and REPLYs go back); then, from
// revision 8, the link token the sender gave the receiver in its HELLO, 8 bytes big-endian.
// The token keeps a stranger's connection claiming the id from ever sharing the link's
// routing id, which a ROUTER would hand over to it.
inline constexpr std::uint8_t call_link_mark = 'C';
struct sender_route {
    node_id id;
    bool call_link = false;
    std::uint64_t token = 0;   // 0: none (a revision-7 routing id)
};
inline constexpr std::size_t max_routing_id_size = node_id::size + 1 + 8;
// Returns: the sender, or nullopt for any other routing id (libzmq's own, a seed probe's).
std::optional<sender_route> read_routing_id(std::span<const std::uint8_t> routing_id);
// Returns: the routing id of `to`, written into `out`; without a token when it has none.
std::span<const std::uint8_t> routing_id_of(const sender_route& to,
                                            std::array<std::uint8_t, max_routing_id_size>& out);

}  // namespace zmesh::protocol
