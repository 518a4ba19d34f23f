// SPDX-License-Identifier: MPL-2.0
// rpc: encode and strictly decode request and reply headers.
#include "rpc.hpp"

#include "msgpack_io.hpp"

#include <stdexcept>

namespace zmesh::protocol {

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

// Returns: the body of a frame of `type`, unpacked, or an errc.
result<msgpack::object_handle> body_of(std::span<const std::uint8_t> frame, std::uint8_t type) {
    if (frame.size() < 2) return errc::truncated;
    if (frame[0] != version) return errc::bad_version;
    if (frame[1] != type) return errc::unknown_type;
    if (frame.size() > 2 + max_service_len + max_rpc_message_len + 64) return errc::oversized;
    return unpack_exact(frame.subspan(2));
}

}  // namespace

std::vector<std::uint8_t> encode_request_header(const request_header& h) {
    if (h.method.empty() || h.method.size() > max_service_len)
        throw std::length_error("method must be 1..128 bytes");
    msgpack::sbuffer body;
    packer pk(body);
    pk.pack_array(3);
    pk.pack(h.id);
    pk.pack(h.method);
    pk.pack(h.timeout_ms);
    return with_head(request_type, body);
}

std::vector<std::uint8_t> encode_reply_header(const reply_header& h) {
    if (h.message.size() > max_rpc_message_len) throw std::length_error("reply message too long");
    msgpack::sbuffer body;
    packer pk(body);
    pk.pack_array(3);
    pk.pack(h.id);
    pk.pack(h.code);
    pk.pack(h.message);
    return with_head(reply_type, body);
}

result<request_header> decode_request_header(std::span<const std::uint8_t> frame) {
    auto handle = body_of(frame, request_type);
    if (!handle) return handle.error();
    field_reader r(handle->get(), 3);
    request_header h;
    h.id = r.uint();
    h.method = r.str(max_service_len, false);
    h.timeout_ms = r.uint();
    if (auto e = r.error()) return *e;
    return h;
}

result<reply_header> decode_reply_header(std::span<const std::uint8_t> frame) {
    auto handle = body_of(frame, reply_type);
    if (!handle) return handle.error();
    const auto& o = handle->get();
    field_reader r(o, 3);
    reply_header h;
    h.id = r.uint();
    // The code is an int: msgpack stores non-negative ones as positive integers.
    const auto& code = r.object();
    if (code.type == msgpack::type::POSITIVE_INTEGER && code.via.u64 <= INT64_MAX)
        h.code = static_cast<std::int64_t>(code.via.u64);
    else if (code.type == msgpack::type::NEGATIVE_INTEGER)
        h.code = code.via.i64;
    else
        r.fail(errc::wrong_type);
    h.message = r.str(max_rpc_message_len);
    if (auto e = r.error()) return *e;
    return h;
}

}  // namespace zmesh::protocol
