// SPDX-License-Identifier: MPL-2.0
// msgpack_io: bounded unpacking and typed field reads.
#include "msgpack_io.hpp"

#include "limits.hpp"

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

// Visits without building anything; only tracks nesting so a hostile payload cannot make
// the parser's stack grow without bound.
struct depth_checker : msgpack::null_visitor {
    std::size_t depth = 0, max_depth;
    bool too_deep = false, truncated = false;
    explicit depth_checker(std::size_t max) : max_depth(max) {}
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

}  // namespace

result<std::size_t> skip_msgpack(std::span<const std::uint8_t> bytes, std::size_t count,
                                 std::size_t max_depth) {
    const auto* data = reinterpret_cast<const char*>(bytes.data());
    std::size_t offset = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (offset >= bytes.size()) return errc::truncated;
        depth_checker v(max_depth);
        try {
            const auto r = msgpack::detail::parse_imp(data, bytes.size(), offset, v);
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

std::optional<errc> check_msgpack(std::span<const std::uint8_t> bytes, std::size_t count,
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

const msgpack::object& field_reader::object() {
    static const msgpack::object nil;
    if (error_) return nil;
    if (next_ >= size_) { error_ = errc::wrong_type; return nil; }
    return items_[next_++];
}

}  // namespace zmesh::protocol
