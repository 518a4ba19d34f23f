// SPDX-License-Identifier: MPL-2.0
// msgpack_reference: what skip_msgpack must answer, computed by msgpack-cxx's own parser
// (what skip_msgpack used to be): the unit test and the fuzz target compare against it.
#pragma once

#include "protocol/msgpack_io.hpp"

#include <msgpack.hpp>

#include <span>

namespace zmesh::test {

// A visitor that builds nothing and only tracks how deep the parser is.
struct msgpack_depth_checker : msgpack::null_visitor {
    std::size_t depth = 0, max_depth;
    bool too_deep = false, truncated = false;
    explicit msgpack_depth_checker(std::size_t max) : max_depth(max) {}
    bool enter() {
        if (++depth > max_depth) too_deep = true;
        return !too_deep;
    }
    bool start_array(std::uint32_t) { return enter(); }
    bool end_array() { --depth; return true; }
    bool start_map(std::uint32_t) { return enter(); }
    bool end_map() { --depth; return true; }
    void insufficient_bytes(std::size_t, std::size_t) { truncated = true; }
};

// Returns: what skip_msgpack(b, count, max_depth) must return (max_depth at most
// max_skip_depth).
inline protocol::result<std::size_t> reference_skip(std::span<const std::uint8_t> b,
                                                    std::size_t count, std::size_t max_depth) {
    using protocol::errc;
    const auto* data = reinterpret_cast<const char*>(b.data());
    std::size_t offset = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (offset >= b.size()) return errc::truncated;
        msgpack_depth_checker v(max_depth);
        try {
            const auto r = msgpack::detail::parse_imp(data, b.size(), offset, v);
            if (r == msgpack::PARSE_CONTINUE || v.truncated) return errc::truncated;
            if (v.too_deep) return errc::oversized;
            if (r != msgpack::PARSE_SUCCESS && r != msgpack::PARSE_EXTRA_BYTES)
                return errc::bad_msgpack;
        } catch (...) {
            return errc::bad_msgpack;
        }
    }
    return offset;
}

}  // namespace zmesh::test
