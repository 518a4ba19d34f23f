// SPDX-License-Identifier: MPL-2.0
// rpc_reference: the RPC header decoders before span_reader, msgpack-cxx's object tree and
// field_reader, kept so that tests can compare the decoders in use against them.
#pragma once

#include "protocol/msgpack_io.hpp"
#include "protocol/rpc.hpp"

#include <climits>
#include <optional>
#include <span>

namespace zmesh::test {

using namespace zmesh::protocol;

// The decoder before span_reader, kept as the reference: msgpack-cxx's object tree and
// field_reader. Returns: the header it read, or nullopt where it refused the frame.
inline std::optional<request_header> tree_request(std::span<const std::uint8_t> f) {
    if (f.size() < 2 || f[0] != version || f[1] != request_type ||
        f.size() > 2 + max_service_len + max_rpc_message_len + 64)
        return std::nullopt;
    auto handle = unpack_exact(f.subspan(2));
    if (!handle) return std::nullopt;
    field_reader r(handle->get(), 3);
    request_header h{r.uint(), r.str(max_service_len, false), r.uint()};
    if (r.error()) return std::nullopt;
    return h;
}

inline std::optional<reply_header> tree_reply(std::span<const std::uint8_t> f) {
    if (f.size() < 2 || f[0] != version || f[1] != reply_type ||
        f.size() > 2 + max_service_len + max_rpc_message_len + 64)
        return std::nullopt;
    auto handle = unpack_exact(f.subspan(2));
    if (!handle) return std::nullopt;
    const auto& a = handle->get();
    if (a.type != msgpack::type::ARRAY || a.via.array.size < 3) return std::nullopt;
    const auto& code = a.via.array.ptr[1];
    std::int64_t c = 0;
    if (code.type == msgpack::type::POSITIVE_INTEGER && code.via.u64 <= INT64_MAX)
        c = static_cast<std::int64_t>(code.via.u64);
    else if (code.type == msgpack::type::NEGATIVE_INTEGER)
        c = code.via.i64;
    else
        return std::nullopt;
    field_reader r(a, 3);
    const auto id = r.uint();
    (void)r.object();   // the code, read above
    reply_header h{id, c, r.str(max_rpc_message_len)};
    if (r.error()) return std::nullopt;
    return h;
}

}  // namespace zmesh::test
