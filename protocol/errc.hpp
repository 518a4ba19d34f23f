// SPDX-License-Identifier: MPL-2.0
// Why a decode failed: one value per kind of bad input, so each can be counted.
#pragma once

#include <string_view>

namespace zmesh::protocol {

enum class errc {
    truncated,      // fewer bytes than the layout needs
    oversized,      // more bytes than the layout allows
    bad_magic,      // not a zmesh datagram at all
    bad_version,    // a protocol version this node does not speak
    bad_msgpack,    // bytes that are not well-formed msgpack
    wrong_type,     // well-formed msgpack, wrong type or shape for a field
    bad_field,      // right type, value out of range (empty name, port 0, ...)
    unknown_type,   // a message type this node does not know
};

constexpr std::string_view to_string(errc e) noexcept {
    switch (e) {
        case errc::truncated: return "truncated";
        case errc::oversized: return "oversized";
        case errc::bad_magic: return "bad magic";
        case errc::bad_version: return "unsupported version";
        case errc::bad_msgpack: return "malformed msgpack";
        case errc::wrong_type: return "wrong field type";
        case errc::bad_field: return "field out of range";
        case errc::unknown_type: return "unknown message type";
    }
    return "unknown error";
}

}  // namespace zmesh::protocol
