// SPDX-License-Identifier: MPL-2.0
// rpc: encode and strictly decode request and reply headers.
#include "rpc.hpp"

#include "msgpack_io.hpp"

#include <stdexcept>
#include <string_view>

namespace zmesh::protocol {

namespace {

// Packs straight into the frame after its version and type bytes: one small allocation
// (an sbuffer starts at 8 KiB, and these run once per call).
struct frame_writer {
    std::vector<std::uint8_t> out;
    void write(const char* data, std::size_t size) {
        out.insert(out.end(), reinterpret_cast<const std::uint8_t*>(data),
                   reinterpret_cast<const std::uint8_t*>(data) + size);
    }
};

frame_writer start_frame(std::uint8_t type, std::size_t body_hint) {
    frame_writer w;
    w.out.reserve(2 + body_hint);
    w.out.push_back(version);
    w.out.push_back(type);
    return w;
}

// The header fields both messages have before any a later revision adds.
constexpr std::uint64_t known_fields = 3;
// What unpacking the body as one object allowed: the array's length, and nesting below it.
// The element counts of nested arrays and maps in extra fields are not limited as the
// unpacker limited them: the frame limit (4290 bytes) bounds them, and nothing is built.
constexpr std::uint64_t max_fields = 4096;
constexpr std::size_t max_extra_depth = 15;

// Returns: nothing when `frame` is a frame of `type` whose body is an array of at least
// known_fields, with `r` at its first field and `extra` the fields after the known ones.
std::optional<errc> open_body(std::span<const std::uint8_t> frame, std::uint8_t type,
                              span_reader& r, std::uint64_t& extra) {
    if (frame.size() < 2) return errc::truncated;
    if (frame[0] != version) return errc::bad_version;
    if (frame[1] != type) return errc::unknown_type;
    if (frame.size() > 2 + max_service_len + max_rpc_message_len + 64) return errc::oversized;
    if (frame.size() == 2) return errc::truncated;
    std::uint64_t count = 0;
    if (auto e = r.array(count)) return e;
    if (count > max_fields) return errc::oversized;
    if (count < known_fields) return errc::wrong_type;
    extra = count - known_fields;
    return std::nullopt;
}

// Returns: nothing when the `extra` fields are well-formed and end the frame exactly.
std::optional<errc> close_body(span_reader& r, std::uint64_t extra) {
    if (auto e = r.skip(static_cast<std::size_t>(extra), max_extra_depth)) return e;
    if (!r.at_end()) return errc::bad_msgpack;
    return std::nullopt;
}

}  // namespace

std::vector<std::uint8_t> encode_request_header(const request_header& h) {
    if (h.method.empty() || h.method.size() > max_service_len)
        throw std::length_error("method must be 1..128 bytes");
    auto w = start_frame(request_type, 24 + h.method.size());
    msgpack::packer<frame_writer> pk(w);
    pk.pack_array(3);
    pk.pack(h.id);
    pk.pack(h.method);
    pk.pack(h.timeout_ms);
    return std::move(w.out);
}

std::vector<std::uint8_t> encode_reply_header(const reply_header& h) {
    if (h.message.size() > max_rpc_message_len) throw std::length_error("reply message too long");
    auto w = start_frame(reply_type, 24 + h.message.size());
    msgpack::packer<frame_writer> pk(w);
    pk.pack_array(3);
    pk.pack(h.id);
    pk.pack(h.code);
    pk.pack(h.message);
    return std::move(w.out);
}

result<request_header> decode_request_header(std::span<const std::uint8_t> frame) {
    span_reader r(frame.size() > 2 ? frame.subspan(2) : std::span<const std::uint8_t>{});
    std::uint64_t extra = 0;
    if (auto e = open_body(frame, request_type, r, extra)) return *e;
    request_header h;
    std::string_view method;
    if (auto e = r.uint(h.id)) return *e;
    if (auto e = r.str(method, max_service_len)) return *e;
    if (method.empty()) return errc::bad_field;
    if (auto e = r.uint(h.timeout_ms)) return *e;
    if (auto e = close_body(r, extra)) return *e;
    h.method = method;
    return h;
}

result<reply_header> decode_reply_header(std::span<const std::uint8_t> frame) {
    span_reader r(frame.size() > 2 ? frame.subspan(2) : std::span<const std::uint8_t>{});
    std::uint64_t extra = 0;
    if (auto e = open_body(frame, reply_type, r, extra)) return *e;
    reply_header h;
    std::string_view message;
    if (auto e = r.uint(h.id)) return *e;
    if (auto e = r.integer(h.code)) return *e;
    if (auto e = r.str(message, max_rpc_message_len)) return *e;
    if (auto e = close_body(r, extra)) return *e;
    h.message = message;
    return h;
}

}  // namespace zmesh::protocol
