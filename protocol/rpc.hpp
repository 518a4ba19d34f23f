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
#pragma once

#include "limits.hpp"
#include "node_id.hpp"
#include "result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

struct request_header {
    std::uint64_t id = 0;            // the caller's, echoed in the reply
    std::string method;
    std::uint64_t timeout_ms = 0;    // time the caller still waits: relative, clocks differ
    bool operator==(const request_header&) const = default;
};

struct reply_header {
    std::uint64_t id = 0;
    std::int64_t code = rpc_ok;
    std::string message;             // empty on success
    bool operator==(const reply_header&) const = default;
};

// A header is at most this long (the longest method or error message, and room for extra
// fields); only this much of a frame is read to find the body.
inline constexpr std::size_t max_rpc_header_size = 2 + max_service_len + max_rpc_message_len + 64;

// Returns: version, type and header: the start of a frame, to which the body is appended.
// Throws std::length_error for a method over max_service_len or a message over
// max_rpc_message_len.
std::vector<std::uint8_t> encode_request_header(const request_header& h);
std::vector<std::uint8_t> encode_reply_header(const reply_header& h);
// The same, appended to `out`: a buffer reused call after call allocates nothing.
void append_request_header(const request_header& h, std::vector<std::uint8_t>& out);
void append_reply_header(const reply_header& h, std::vector<std::uint8_t>& out);
// A request header whose id is filled in last, so a caller can build the whole frame before
// the id exists (the reactor gives it) and then write it in place: the id is packed as a
// uint 64 (0xcf and 8 big-endian bytes, valid msgpack for any value), its 8 bytes at
// request_id_offset. Appends to `out`; throws as above.
inline constexpr std::size_t request_id_offset = 4;   // version, type, array of 3, 0xcf
void append_request_header_open_id(std::string_view method, std::uint64_t timeout_ms,
                                   std::vector<std::uint8_t>& out);
// The same header, written to `out` when it has the short form nodes send (a method under 32
// bytes, a timeout under 2^32 ms), with no vector to grow. Returns: its size, or 0 when it
// has not (use append_request_header_open_id).
inline constexpr std::size_t max_short_request_header = 12 + 1 + 31 + 5;
std::size_t put_request_header_open_id(std::string_view method, std::uint64_t timeout_ms,
                                       std::span<std::uint8_t, max_short_request_header> out);
// A reply header written to `out` when it has the short form nodes send (an id of 2^32 or
// more, a code 0..127, a message under 32 bytes: every successful reply). Returns: its size,
// or 0 when it has not (use append_reply_header).
inline constexpr std::size_t max_short_reply_header = 12 + 2 + 31;
std::size_t put_reply_header(const reply_header& h, std::span<std::uint8_t, max_short_reply_header> out);
// Writes `id` into a frame that starts with append_request_header_open_id's header.
void set_request_id(std::span<std::uint8_t> frame, std::uint64_t id);
// Returns: the method in such a frame (a view into it), read at the fixed place that header
// puts it, so a frame built for sending need not carry its method beside it as well.
std::string_view open_request_method(std::span<const std::uint8_t> frame);
// Returns: a whole frame, the header then `body` (not checked here). Throws as above.
std::vector<std::uint8_t> encode_request(const request_header& h, std::span<const std::uint8_t> body);
std::vector<std::uint8_t> encode_reply(const reply_header& h, std::span<const std::uint8_t> body);

// Returns: the header that is the whole of `bytes` (no body after it), or an errc. Never
// throws.
result<request_header> decode_request_header(std::span<const std::uint8_t> bytes);
result<reply_header> decode_reply_header(std::span<const std::uint8_t> bytes);

// A header read in place: its strings view the frame they were read from, so reading one
// copies nothing (a node reads one per call it makes or serves).
struct request_view {
    std::uint64_t id = 0;
    std::string_view method;
    std::uint64_t timeout_ms = 0;
};
struct reply_view {
    std::uint64_t id = 0;
    std::int64_t code = rpc_ok;
    std::string_view message;
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

// Returns: the frame's header and body, or an errc (oversized when no header ends within
// max_rpc_header_size bytes). Never throws.
result<request_message> decode_request(std::span<const std::uint8_t> frame);
result<reply_message> decode_reply(std::span<const std::uint8_t> frame);
// The same, the header viewed in `frame`: accepts and refuses exactly what the two above do.
result<rpc_message<request_view>> read_request(std::span<const std::uint8_t> frame);
result<rpc_message<reply_view>> read_reply(std::span<const std::uint8_t> frame);

}  // namespace zmesh::protocol
