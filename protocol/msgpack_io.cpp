// SPDX-License-Identifier: MPL-2.0
// msgpack_io: bounded unpacking and typed field reads.
#include "msgpack_io.hpp"

#include "limits.hpp"

#include <algorithm>
#include <array>

namespace zmesh::protocol {

result<msgpack::object_handle> unpack_exact(std::span<const std::uint8_t> bytes,
                                            const unpack_limits& l) {
    if (bytes.empty()) return errc::truncated;
    const msgpack::unpack_limit limit(l.array, l.map, l.str, l.bin, l.ext, l.depth);
    std::size_t offset = 0;
    try {
        auto handle = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(),
                                      offset, nullptr, nullptr, limit);
        if (offset != bytes.size()) return errc::bad_msgpack;
        return handle;
    } catch (const msgpack::insufficient_bytes&) {
        return errc::truncated;
    } catch (const msgpack::size_overflow&) {   // also depth_size_overflow
        return errc::oversized;
    } catch (...) {
        // parse_error, type errors, bad_alloc on absurd lengths: all mean "not for us".
        return errc::bad_msgpack;
    }
}

namespace {

// What follows a tag that is not a container: `fixed` bytes, or a big-endian length of
// `length_width` bytes and then that many (and one type byte more for ext 8/16/32).
struct tag_shape {
    std::uint8_t fixed = 0;
    std::uint8_t length_width = 0;
    bool ext = false;
};

tag_shape shape_of(std::uint8_t tag) {
    if (tag <= 0x7f || tag >= 0xe0 || tag == 0xc0 || tag == 0xc2 || tag == 0xc3) return {};
    if (tag >= 0xa0 && tag <= 0xbf) return {static_cast<std::uint8_t>(tag & 0x1f), 0, false};
    switch (tag) {
    case 0xc4: case 0xd9: return {0, 1, false};   // bin 8, str 8
    case 0xc5: case 0xda: return {0, 2, false};
    case 0xc6: case 0xdb: return {0, 4, false};
    case 0xc7: return {0, 1, true};   // ext 8/16/32: length, type byte, data
    case 0xc8: return {0, 2, true};
    case 0xc9: return {0, 4, true};
    case 0xca: return {4, 0, false};   // float 32
    case 0xcb: return {8, 0, false};   // float 64
    case 0xcc: case 0xd0: return {1, 0, false};
    case 0xcd: case 0xd1: return {2, 0, false};
    case 0xce: case 0xd2: return {4, 0, false};
    case 0xcf: case 0xd3: return {8, 0, false};
    case 0xd4: return {2, 0, false};   // fixext 1/2/4/8/16: type byte and data
    case 0xd5: return {3, 0, false};
    case 0xd6: return {5, 0, false};
    case 0xd7: return {9, 0, false};
    case 0xd8: return {17, 0, false};
    default: return {};
    }
}

bool is_container(std::uint8_t tag) {
    return (tag & 0xe0) == 0x80 || (tag >= 0xdc && tag <= 0xdf);   // fixmap, fixarray, 16/32
}

// Returns: the offset after the object that is not a container whose tag is bytes[at - 1].
result<std::size_t> skip_scalar(std::span<const std::uint8_t> bytes, std::size_t at, std::uint8_t tag) {
    if (tag == 0xc1) return errc::bad_msgpack;   // the one byte msgpack never uses
    const std::size_t size = bytes.size();
    const auto s = shape_of(tag);
    std::uint64_t skip = s.fixed;
    if (s.length_width) {
        if (size - at < s.length_width) return errc::truncated;
        skip = read_big_endian(&bytes[at], s.length_width) + (s.ext ? 1 : 0);
        at += s.length_width;
    }
    if (size - at < skip) return errc::truncated;
    return at + static_cast<std::size_t>(skip);
}

}  // namespace

result<std::size_t> skip_msgpack(std::span<const std::uint8_t> bytes, std::size_t count,
                                 std::size_t max_depth) {
    // One number, string or bin (most payloads): no walk.
    if (count == 1 && !bytes.empty() && !is_container(bytes[0])) return skip_scalar(bytes, 1, bytes[0]);
    // A hand-written walk, not msgpack-cxx's parser: that one reserves its container stack
    // on the heap at every call, an allocation per event and per RPC message. Here the
    // stack is the objects still owed at each open depth, on this frame. It takes at most
    // one step per byte: every object, even an empty container, is at least one.
    max_depth = std::min(max_depth, max_skip_depth);
    std::array<std::uint64_t, max_skip_depth + 1> owed;
    std::size_t depth = 0;
    owed[0] = count;
    std::size_t at = 0;
    const std::size_t size = bytes.size();
    for (;;) {
        while (owed[depth] == 0) {
            if (depth == 0) return at;
            --depth;
        }
        --owed[depth];
        if (at >= size) return errc::truncated;
        const std::uint8_t tag = bytes[at++];
        std::uint64_t elements = 0;
        if ((tag & 0xf0) == 0x90) {
            elements = tag & 0x0f;
        } else if ((tag & 0xf0) == 0x80) {
            elements = 2 * static_cast<std::uint64_t>(tag & 0x0f);   // a key and a value each
        } else if (tag >= 0xdc && tag <= 0xdf) {   // array 16/32, map 16/32
            const std::size_t width = (tag == 0xdc || tag == 0xde) ? 2 : 4;
            if (size - at < width) return errc::truncated;
            elements = read_big_endian(&bytes[at], width) * (tag >= 0xde ? 2 : 1);
            at += width;
        } else {
            const auto end = skip_scalar(bytes, at, tag);
            if (!end) return end;
            at = *end;
            continue;
        }
        // Entering a container counts toward the depth even when it is empty.
        if (depth + 1 > max_depth) return errc::oversized;
        if (elements > 0) owed[++depth] = elements;
    }
}

std::optional<errc> check_msgpack_walk(std::span<const std::uint8_t> bytes, std::size_t count,
                                       std::size_t max_depth) {
    const auto end = skip_msgpack(bytes, count, max_depth);
    if (!end) return end.error();
    if (*end != bytes.size()) return errc::bad_msgpack;
    return std::nullopt;
}

std::vector<std::uint8_t> with_head(std::uint8_t type, const msgpack::sbuffer& body) {
    std::vector<std::uint8_t> out;
    out.reserve(2 + body.size());
    out.push_back(version);
    out.push_back(type);
    out.insert(out.end(), body.data(), body.data() + body.size());
    return out;
}

field_reader::field_reader(const msgpack::object& array, std::size_t min_fields) {
    if (array.type != msgpack::type::ARRAY || array.via.array.size < min_fields) {
        error_ = errc::wrong_type;
        return;
    }
    items_ = array.via.array.ptr;
    size_ = array.via.array.size;
}

const msgpack::object* field_reader::next_element(msgpack::type::object_type want) {
    if (error_) return nullptr;
    if (next_ >= size_) {
        error_ = errc::wrong_type;
        return nullptr;
    }
    const msgpack::object* o = &items_[next_++];
    if (o->type != want) {
        error_ = errc::wrong_type;
        return nullptr;
    }
    return o;
}

std::string field_reader::str(std::size_t max_len, bool allow_empty) {
    const auto* o = next_element(msgpack::type::STR);
    if (!o) return {};
    if (o->via.str.size > max_len) { fail(errc::oversized); return {}; }
    if (!allow_empty && o->via.str.size == 0) { fail(errc::bad_field); return {}; }
    return std::string(o->via.str.ptr, o->via.str.size);
}

std::uint64_t field_reader::uint(std::uint64_t max) {
    const auto* o = next_element(msgpack::type::POSITIVE_INTEGER);
    if (!o) return 0;
    if (o->via.u64 > max) { fail(errc::bad_field); return 0; }
    return o->via.u64;
}

bool field_reader::boolean() {
    const auto* o = next_element(msgpack::type::BOOLEAN);
    return o ? o->via.boolean : false;
}

std::span<const std::uint8_t> field_reader::bin(std::size_t max_len) {
    const auto* o = next_element(msgpack::type::BIN);
    if (!o) return {};
    if (o->via.bin.size > max_len) { fail(errc::oversized); return {}; }
    return {reinterpret_cast<const std::uint8_t*>(o->via.bin.ptr), o->via.bin.size};
}

node_id field_reader::id() {
    const auto b = bin(node_id::size);
    if (error_) return {};
    auto id = node_id::from_bytes(b);
    if (!id || id->empty()) { fail(errc::bad_field); return {}; }
    return *id;
}

node_id field_reader::id_or_none() {
    const auto b = bin(node_id::size);
    if (error_) return {};
    auto id = node_id::from_bytes(b);
    if (!id) { fail(errc::bad_field); return {}; }
    return *id;
}

const msgpack::object& field_reader::object() {
    static const msgpack::object nil;
    if (error_) return nil;
    if (next_ >= size_) { error_ = errc::wrong_type; return nil; }
    return items_[next_++];
}

}  // namespace zmesh::protocol
