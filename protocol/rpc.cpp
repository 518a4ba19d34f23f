// SPDX-License-Identifier: MPL-2.0
// rpc: encode and strictly decode REQUEST and REPLY frames.
#include "rpc.hpp"

#include "msgpack_io.hpp"

#include <cstring>
#include <stdexcept>

namespace zmesh::protocol {

namespace {

// ---- encoding ---------------------------------------------------------------------------

template <class Writer>
void pack_body(Writer& w, std::span<const std::uint8_t> body) {
    w.write(reinterpret_cast<const char*>(body.data()), body.size());
}

// The one layout of each frame, for counting and for writing.
template <class Writer>
void pack_frame(Writer& w, const request_header& h, std::span<const std::uint8_t> body) {
    start_frame(w, request_type);
    msgpack::packer<Writer> pk(w);
    pk.pack_array(3);
    pk.pack_fix_uint64(h.id);   // fixed width: see encode_request
    pk.pack_str(static_cast<std::uint32_t>(h.method.size()));
    pk.pack_str_body(h.method.data(), static_cast<std::uint32_t>(h.method.size()));
    pk.pack(h.timeout_ms);
    pack_body(w, body);
}

template <class Writer>
void pack_frame(Writer& w, const reply_header& h, std::span<const std::uint8_t> body) {
    start_frame(w, reply_type);
    msgpack::packer<Writer> pk(w);
    pk.pack_array(3);
    pk.pack(h.id);
    pk.pack(h.code);
    pk.pack_str(static_cast<std::uint32_t>(h.message.size()));
    pk.pack_str_body(h.message.data(), static_cast<std::uint32_t>(h.message.size()));
    pack_body(w, body);
}

// Returns: the bytes of the frame of `h` with a body of `body_size` bytes.
template <class Header>
std::size_t frame_size(const Header& h, std::size_t body_size) noexcept {
    size_counter c;
    pack_frame(c, h, {});
    return c.size + body_size;
}

// Writes the frame of `h` and `body` into `out`. Throws std::length_error(`wrong_size`) when
// `out` is not exactly frame_size bytes.
template <class Header>
void write_frame(const Header& h, std::span<const std::uint8_t> body, std::span<std::uint8_t> out,
                 const char* wrong_size) {
    if (out.size() != frame_size(h, body.size())) throw std::length_error(wrong_size);
    span_writer w{out.data()};
    pack_frame(w, h, body);
}

// ---- decoding ---------------------------------------------------------------------------

// The header fields both messages have before any a later revision adds.
constexpr std::uint64_t known_fields = 3;

// The reader of a header: the first max_rpc_header_size bytes of `frame` after version and
// type, so however long the body, the work is bounded.
span_reader header_reader(std::span<const std::uint8_t> frame) {
    const auto window = frame.first(std::min(frame.size(), max_rpc_header_size));
    return span_reader(window.size() > 2 ? window.subspan(2) : std::span<const std::uint8_t>{});
}

// Returns: the message `frame` holds, its fields read by `read_fields` (after version, type
// and the array's size, before any extra fields); or an errc, oversized for a header cut
// short by the window rather than by the frame.
template <class Header, class ReadFields>
result<rpc_message<Header>> decode(std::span<const std::uint8_t> frame, std::uint8_t type,
                                   ReadFields read_fields) {
    result<rpc_message<Header>> out{rpc_message<Header>{}};   // filled in place, not copied
    auto r = header_reader(frame);
    std::uint64_t extra = 0;
    auto e = open_frame(frame, type, known_fields, r, extra);
    if (!e) e = read_fields(r, out->header);
    if (!e) e = r.skip(static_cast<std::size_t>(extra), max_extra_field_depth);
    if (e)
        out = *e == errc::truncated && frame.size() > max_rpc_header_size ? errc::oversized : *e;
    else
        out->body = frame.subspan(2 + r.position());
    return out;
}

}  // namespace

std::size_t request_size(const request_header& h, std::size_t body_size) noexcept { return frame_size(h, body_size); }

void encode_request(const request_header& h, std::span<const std::uint8_t> body,
                    std::span<std::uint8_t> out) {
    if (h.method.empty() || h.method.size() > max_service_len)
        throw std::length_error("rpc request: method must be 1..128 bytes");
    write_frame(h, body, out, "rpc request: buffer is not request_size bytes");
}

result<request_message> decode_request(std::span<const std::uint8_t> frame) {
    return decode<request_header>(frame, request_type, [](span_reader& r, request_header& h) {
        auto e = r.uint(h.id);
        if (!e) e = r.str(h.method, max_service_len);
        if (!e && h.method.empty()) e = errc::bad_field;
        if (!e) e = r.uint(h.timeout_ms);
        return e;
    });
}

std::size_t reply_size(const reply_header& h, std::size_t body_size) noexcept { return frame_size(h, body_size); }

void encode_reply(const reply_header& h, std::span<const std::uint8_t> body, std::span<std::uint8_t> out) {
    if (h.message.size() > max_rpc_message_len)
        throw std::length_error("rpc reply: message over 4096 bytes");
    write_frame(h, body, out, "rpc reply: buffer is not reply_size bytes");
}

result<reply_message> decode_reply(std::span<const std::uint8_t> frame) {
    return decode<reply_header>(frame, reply_type, [](span_reader& r, reply_header& h) {
        auto e = r.uint(h.id);
        if (!e) e = r.integer(h.code);
        if (!e) e = r.str(h.message, max_rpc_message_len);
        return e;
    });
}

std::optional<sender_route> read_routing_id(std::span<const std::uint8_t> routing_id) {
    // 16 or 24 bytes: a link; 17 or 25 with 'C' after the id: a call link.
    const auto size = routing_id.size();
    const bool with_token = size == node_id::size + 8 || size == node_id::size + 9;
    const auto rest = size - (with_token ? 8 : 0) - node_id::size;
    if (size < node_id::size || rest > 1) return std::nullopt;
    const bool call_link = rest == 1;
    if (call_link && routing_id[node_id::size] != call_link_mark) return std::nullopt;
    const auto id = node_id::from_bytes(routing_id.first(node_id::size));
    if (!id) return std::nullopt;
    const auto token = with_token ? read_big_endian(&routing_id[size - 8], 8) : 0;
    return sender_route{*id, call_link, token};
}

std::span<const std::uint8_t> routing_id_of(const sender_route& to,
                                            std::array<std::uint8_t, max_routing_id_size>& out) {
    std::memcpy(out.data(), to.id.bytes().data(), node_id::size);
    std::size_t size = node_id::size;
    if (to.call_link) out[size++] = call_link_mark;
    if (to.token != 0) {
        write_big_endian(&out[size], to.token, 8);
        size += 8;
    }
    return std::span<const std::uint8_t>(out).first(size);
}

}  // namespace zmesh::protocol
