// SPDX-License-Identifier: MPL-2.0
// rpc: encode and strictly decode request and reply headers.
#include "rpc.hpp"

#include "msgpack_io.hpp"

#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace zmesh::protocol {

namespace {

// Packs straight into the caller's buffer after the version and type bytes: no allocation
// once a reused buffer has grown, where an sbuffer would allocate its first block for every
// header, and these run once per call.
struct frame_writer {
    std::vector<std::uint8_t>& out;
    void write(const char* data, std::size_t size) {
        out.insert(out.end(), reinterpret_cast<const std::uint8_t*>(data),
                   reinterpret_cast<const std::uint8_t*>(data) + size);
    }
};

frame_writer start_frame(std::vector<std::uint8_t>& out, std::uint8_t type, std::size_t body_hint) {
    out.reserve(out.size() + 2 + body_hint);
    out.push_back(version);
    out.push_back(type);
    return frame_writer{out};
}

// The header fields both messages have before any a later revision adds.
constexpr std::uint64_t known_fields = 3;
// What unpacking the body as one object allowed: the array's length, and nesting below it.
// The element counts of nested arrays and maps in extra fields are not limited as the
// unpacker limited them: the frame limit (4290 bytes) bounds them, and nothing is built.
constexpr std::uint64_t max_fields = 4096;
constexpr std::size_t max_extra_depth = 15;

// Returns: nothing when `frame` starts with version, `type` and an array of at least
// known_fields, with `r` at its first field and `extra` the fields after the known ones.
std::optional<errc> open_header(std::span<const std::uint8_t> frame, std::uint8_t type,
                                span_reader& r, std::uint64_t& extra) {
    if (frame.size() < 2) return errc::truncated;
    if (frame[0] != version) return errc::bad_version;
    if (frame[1] != type) return errc::unknown_type;
    if (frame.size() == 2) return errc::truncated;
    std::uint64_t count = 0;
    if (auto e = r.array(count)) return e;
    if (count > max_fields) return errc::oversized;
    if (count < known_fields) return errc::wrong_type;
    extra = count - known_fields;
    return std::nullopt;
}

// The reader of a header: the first max_rpc_header_size bytes of `frame` after version and
// type, so however long the body, the work is bounded.
span_reader header_reader(std::span<const std::uint8_t> frame) {
    const auto window = frame.first(std::min(frame.size(), max_rpc_header_size));
    return span_reader(window.size() > 2 ? window.subspan(2) : std::span<const std::uint8_t>{});
}

// Returns: `e`, or oversized when it is a header cut short by the window, not by the frame.
errc windowed(errc e, std::span<const std::uint8_t> frame) {
    return e == errc::truncated && frame.size() > max_rpc_header_size ? errc::oversized : e;
}

// Our own encoders' form of a header, read without the general reader (a node reads one per
// call it makes or serves): version, type, a fixarray of 3 and the id as a uint 64, then
// (request) a fixstr method and a uint timeout of at most 32 bits, or (reply) a positive
// fixint code and a fixstr message. Each returns where the header ends, or nothing when
// `f` is not in that form; the general reader then decides, so both accept the same.
constexpr std::size_t canonical_id_end = 12;   // version, type, 0x93, 0xcf, 8 bytes of id

bool canonical_start(std::span<const std::uint8_t> f, std::uint8_t type) {
    return f.size() > canonical_id_end + 1 && f[0] == version && f[1] == type && f[2] == 0x93 &&
           f[3] == 0xcf;
}

// Returns: the length of the fixstr at f[at], or nothing when that is not one.
std::optional<std::size_t> fixstr_at(std::span<const std::uint8_t> f, std::size_t at) {
    if ((f[at] & 0xe0) != 0xa0) return std::nullopt;
    const std::size_t len = f[at] & 0x1f;
    if (f.size() < at + 1 + len) return std::nullopt;
    return len;
}

std::string_view view_at(std::span<const std::uint8_t> f, std::size_t at, std::size_t len) {
    return {reinterpret_cast<const char*>(f.data() + at), len};
}

std::optional<std::size_t> canonical_request(std::span<const std::uint8_t> f, request_view& h) {
    if (!canonical_start(f, request_type)) return std::nullopt;
    const auto len = fixstr_at(f, canonical_id_end);
    const auto at = canonical_id_end + 1 + len.value_or(0);
    if (!len || *len == 0 || f.size() <= at) return std::nullopt;
    std::size_t width = 0;
    switch (f[at]) {
        case 0xcc: width = 1; break;
        case 0xcd: width = 2; break;
        case 0xce: width = 4; break;
        default:
            if (f[at] >= 0x80) return std::nullopt;
    }
    if (f.size() < at + 1 + width) return std::nullopt;
    h.id = read_big_endian(&f[4], 8);
    h.method = view_at(f, canonical_id_end + 1, *len);
    h.timeout_ms = width ? read_big_endian(&f[at + 1], width) : f[at];
    return at + 1 + width;
}

std::optional<std::size_t> canonical_reply(std::span<const std::uint8_t> f, reply_view& h) {
    if (!canonical_start(f, reply_type) || f[canonical_id_end] >= 0x80) return std::nullopt;
    const auto len = fixstr_at(f, canonical_id_end + 1);
    if (!len) return std::nullopt;
    h.id = read_big_endian(&f[4], 8);
    h.code = f[canonical_id_end];
    h.message = view_at(f, canonical_id_end + 2, *len);
    return canonical_id_end + 2 + *len;
}

// Reads a request header from `frame` into `h`. Returns: where the header ends, or an errc.
result<std::size_t> request_fields(std::span<const std::uint8_t> frame, request_view& h) {
    if (const auto end = canonical_request(frame, h)) return *end;
    auto r = header_reader(frame);
    std::uint64_t extra = 0;
    auto e = open_header(frame, request_type, r, extra);
    if (!e) e = r.uint(h.id);
    if (!e) e = r.str(h.method, max_service_len);
    if (!e && h.method.empty()) e = errc::bad_field;
    if (!e) e = r.uint(h.timeout_ms);
    if (!e) e = r.skip(static_cast<std::size_t>(extra), max_extra_depth);
    if (e) return windowed(*e, frame);
    return 2 + r.position();
}

result<std::size_t> reply_fields(std::span<const std::uint8_t> frame, reply_view& h) {
    if (const auto end = canonical_reply(frame, h)) return *end;
    auto r = header_reader(frame);
    std::uint64_t extra = 0;
    auto e = open_header(frame, reply_type, r, extra);
    if (!e) e = r.uint(h.id);
    if (!e) e = r.integer(h.code);
    if (!e) e = r.str(h.message, max_rpc_message_len);
    if (!e) e = r.skip(static_cast<std::size_t>(extra), max_extra_depth);
    if (e) return windowed(*e, frame);
    return 2 + r.position();
}

request_header owned(const request_view& v) { return {v.id, std::string(v.method), v.timeout_ms}; }
reply_header owned(const reply_view& v) { return {v.id, v.code, std::string(v.message)}; }

// Returns: the header that must be the whole of `bytes`, read by `read`.
template <class View, class Read>
auto header_only(std::span<const std::uint8_t> bytes, Read read) -> result<decltype(owned(View{}))> {
    View h;
    const auto end = read(bytes, h);
    if (!end) return end.error();
    if (*end != bytes.size())
        return bytes.size() > max_rpc_header_size ? errc::oversized : errc::bad_msgpack;
    return owned(h);
}

// Returns: the header and body of `frame`, read by `read`.
template <class View, class Read>
result<rpc_message<View>> whole(std::span<const std::uint8_t> frame, Read read) {
    result<rpc_message<View>> out{rpc_message<View>{}};
    const auto end = read(frame, out->header);
    if (!end)
        out = end.error();
    else
        out->body = frame.subspan(*end);
    return out;
}

// Returns: `m` with its header's strings copied out of the frame.
template <class View>
auto owned(const result<rpc_message<View>>& m) -> result<rpc_message<decltype(owned(View{}))>> {
    if (!m) return m.error();
    return rpc_message<decltype(owned(View{}))>{owned(m->header), m->body};
}

std::vector<std::uint8_t> with_body(std::vector<std::uint8_t> head, std::span<const std::uint8_t> body) {
    head.insert(head.end(), body.begin(), body.end());
    return head;
}

}  // namespace

namespace {

// The forms canonical_request and canonical_reply read, written byte by byte: the bytes
// msgpack-cxx's packer writes for these values, without its write per piece into the
// vector, since they are written once per call. Each returns false, writing nothing, for
// values outside that form; the packer writes those.
bool append_canonical_request(std::string_view method, std::uint64_t timeout_ms,
                              std::vector<std::uint8_t>& out) {
    std::array<std::uint8_t, max_short_request_header> b;
    const auto size = put_request_header_open_id(method, timeout_ms, b);
    out.insert(out.end(), b.begin(), b.begin() + size);
    return size != 0;
}

bool append_canonical_reply(const reply_header& h, std::vector<std::uint8_t>& out) {
    std::array<std::uint8_t, max_short_reply_header> b;
    const auto size = put_reply_header(h, b);
    out.insert(out.end(), b.begin(), b.begin() + size);
    return size != 0;
}

// A REQUEST header whose id `pack_id` packs: the one encoding of both forms below.
template <class PackId>
void append_request(std::string_view method, std::uint64_t timeout_ms,
                    std::vector<std::uint8_t>& out, PackId pack_id) {
    if (method.empty() || method.size() > max_service_len)
        throw std::length_error("method must be 1..128 bytes");
    auto w = start_frame(out, request_type, 24 + method.size());
    msgpack::packer<frame_writer> pk(w);
    pk.pack_array(3);
    pack_id(pk);
    pk.pack_str(static_cast<std::uint32_t>(method.size()));
    pk.pack_str_body(method.data(), static_cast<std::uint32_t>(method.size()));
    pk.pack(timeout_ms);
}

}  // namespace

void append_request_header(const request_header& h, std::vector<std::uint8_t>& out) {
    append_request(h.method, h.timeout_ms, out, [&](auto& pk) { pk.pack(h.id); });
}

void append_request_header_open_id(std::string_view method, std::uint64_t timeout_ms,
                                   std::vector<std::uint8_t>& out) {
    // Fixed width whatever the id: set_request_id writes it.
    if (append_canonical_request(method, timeout_ms, out)) return;
    append_request(method, timeout_ms, out, [](auto& pk) { pk.pack_fix_uint64(0); });
}

std::size_t put_request_header_open_id(std::string_view method, std::uint64_t timeout_ms,
                                       std::span<std::uint8_t, max_short_request_header> out) {
    if (method.empty() || method.size() >= 32 || timeout_ms >> 32) return 0;
    auto* b = out.data();
    b[0] = version;
    b[1] = request_type;
    b[2] = 0x93;
    b[3] = 0xcf;   // the id: 8 bytes, 0 until set_request_id writes it
    write_big_endian(b + request_id_offset, 0, 8);
    std::size_t at = canonical_id_end;
    b[at++] = static_cast<std::uint8_t>(0xa0 | method.size());
    std::memcpy(b + at, method.data(), method.size());
    at += method.size();
    if (timeout_ms < 0x80) {
        b[at++] = static_cast<std::uint8_t>(timeout_ms);
    } else {
        const std::size_t width = timeout_ms < 0x100 ? 1 : timeout_ms < 0x10000 ? 2 : 4;
        b[at++] = width == 1 ? 0xcc : width == 2 ? 0xcd : 0xce;
        write_big_endian(b + at, timeout_ms, width);
        at += width;
    }
    return at;
}

namespace {

// Returns: the size of `h`'s short form (an id of 2^32 or more, a code 0..127, a message
// under 32 bytes), or 0 when it has none.
std::size_t short_reply_size(const reply_header& h) {
    if (!(h.id >> 32) || h.code < 0 || h.code >= 0x80 || h.message.size() >= 32) return 0;
    return canonical_id_end + 2 + h.message.size();
}

// Writes the short form of `h` at `b` (room for short_reply_size(h) bytes).
void write_short_reply(const reply_header& h, std::uint8_t* b) {
    b[0] = version;
    b[1] = reply_type;
    b[2] = 0x93;
    b[3] = 0xcf;
    write_big_endian(b + 4, h.id, 8);
    b[canonical_id_end] = static_cast<std::uint8_t>(h.code);
    b[canonical_id_end + 1] = static_cast<std::uint8_t>(0xa0 | h.message.size());
    if (!h.message.empty()) std::memcpy(b + canonical_id_end + 2, h.message.data(), h.message.size());
}

}  // namespace

std::size_t put_reply_header(const reply_header& h, std::span<std::uint8_t, max_short_reply_header> out) {
    const auto size = short_reply_size(h);
    if (size) write_short_reply(h, out.data());
    return size;
}

void set_request_id(std::span<std::uint8_t> frame, std::uint64_t id) {
    write_big_endian(&frame[request_id_offset], id, 8);
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

std::string_view open_request_method(std::span<const std::uint8_t> frame) {
    // After the id: a fixstr, or a str 8 for 32 bytes and more (a method is at most 128).
    constexpr std::size_t at = request_id_offset + 8;
    if (frame.size() <= at + 1) return {};
    const bool fix = (frame[at] & 0xe0) == 0xa0;
    const std::size_t start = fix ? at + 1 : at + 2;
    const std::size_t length = fix ? frame[at] & 0x1f : frame[at + 1];
    if ((!fix && frame[at] != 0xd9) || frame.size() < start + length) return {};
    return {reinterpret_cast<const char*>(frame.data() + start), length};
}

void append_reply_header(const reply_header& h, std::vector<std::uint8_t>& out) {
    if (h.message.size() > max_rpc_message_len) throw std::length_error("reply message too long");
    if (append_canonical_reply(h, out)) return;
    auto w = start_frame(out, reply_type, 24 + h.message.size());
    msgpack::packer<frame_writer> pk(w);
    pk.pack_array(3);
    pk.pack(h.id);
    pk.pack(h.code);
    pk.pack(h.message);
}

std::vector<std::uint8_t> encode_request_header(const request_header& h) {
    std::vector<std::uint8_t> out;
    append_request_header(h, out);
    return out;
}

std::vector<std::uint8_t> encode_reply_header(const reply_header& h) {
    std::vector<std::uint8_t> out;
    append_reply_header(h, out);
    return out;
}

std::vector<std::uint8_t> encode_request(const request_header& h, std::span<const std::uint8_t> body) {
    return with_body(encode_request_header(h), body);
}

std::vector<std::uint8_t> encode_reply(const reply_header& h, std::span<const std::uint8_t> body) {
    return with_body(encode_reply_header(h), body);
}

result<request_header> decode_request_header(std::span<const std::uint8_t> bytes) {
    return header_only<request_view>(bytes, request_fields);
}

result<reply_header> decode_reply_header(std::span<const std::uint8_t> bytes) {
    return header_only<reply_view>(bytes, reply_fields);
}

result<rpc_message<request_view>> read_request(std::span<const std::uint8_t> frame) {
    return whole<request_view>(frame, request_fields);
}

result<rpc_message<reply_view>> read_reply(std::span<const std::uint8_t> frame) {
    return whole<reply_view>(frame, reply_fields);
}

result<request_message> decode_request(std::span<const std::uint8_t> frame) {
    return owned(read_request(frame));
}

result<reply_message> decode_reply(std::span<const std::uint8_t> frame) {
    return owned(read_reply(frame));
}

}  // namespace zmesh::protocol
