// SPDX-License-Identifier: MPL-2.0
// msgpack_io: the only place that calls msgpack's unpacker, so no msgpack exception leaves protocol/.
#pragma once

#include "limits.hpp"
#include "node_id.hpp"
#include "result.hpp"

#include <msgpack.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zmesh::protocol {

// Limits that keep a hostile input from making the unpacker allocate without bound.
struct unpack_limits {
    std::size_t array = 4096;
    std::size_t map = 1024;
    std::size_t str = 64 * 1024;
    std::size_t bin = 16 * 1024 * 1024;
    std::size_t ext = 1024;
    std::size_t depth = 16;
};

// Returns: the single msgpack object that fills `bytes` exactly, or
//   truncated (input ends early), oversized (a limit was hit), bad_msgpack (anything else,
//   including trailing bytes after the object). Never throws.
result<msgpack::object_handle> unpack_exact(std::span<const std::uint8_t> bytes,
                                            const unpack_limits& limits = {});

// The deepest nesting the checks below can be asked to allow; a larger max_depth is this.
inline constexpr std::size_t max_skip_depth = 64;

// check_msgpack's walk, for what its inline part does not decide.
std::optional<errc> check_msgpack_walk(std::span<const std::uint8_t> bytes, std::size_t count,
                                       std::size_t max_depth);

// Returns: nothing when `bytes` holds exactly `count` msgpack objects back to back, nested
// at most `max_depth` deep; else truncated, oversized (too deep) or bad_msgpack. Builds no
// object tree and never throws, so it can run on every event payload and RPC body.
inline std::optional<errc> check_msgpack(std::span<const std::uint8_t> bytes, std::size_t count = 1,
                                         std::size_t max_depth = max_skip_depth) {
    // One str or bin of under 256 bytes that fills `bytes`, the usual small payload, is
    // decided here, inline, without the walk and its call: every RPC argument and result
    // is checked, on both reactors of a call.
    if (count == 1 && bytes.size() >= 2) {
        const auto tag = bytes[0];
        if ((tag & 0xe0) == 0xa0 && (tag & 0x1fu) + 1 == bytes.size()) return std::nullopt;   // fixstr
        if ((tag == 0xc4 || tag == 0xd9) && bytes[1] + 2u == bytes.size()) return std::nullopt;   // bin/str 8
    }
    return check_msgpack_walk(bytes, count, max_depth);
}

// Returns: the offset just after the first `count` msgpack objects at the start of `bytes`
// (what follows is not looked at), or the errors of check_msgpack. Never throws, never
// allocates.
result<std::size_t> skip_msgpack(std::span<const std::uint8_t> bytes, std::size_t count,
                                 std::size_t max_depth = max_skip_depth);

// The `width` bytes at `p` as a big-endian number (msgpack's byte order), and back.
// Precondition: `width` bytes at `p`, width <= 8. Inline, and msgpack's widths (1, 2, 4, 8)
// as one load or store and a byte swap rather than a loop over bytes: RPC headers and event
// envelopes read and write them for every message.
namespace detail {
template <class U>
U swapped(U v) noexcept {
    if constexpr (sizeof(U) == 2) return __builtin_bswap16(v);
    else if constexpr (sizeof(U) == 4) return __builtin_bswap32(v);
    else return __builtin_bswap64(v);
}
template <class U>
std::uint64_t load_big(const std::uint8_t* p) noexcept {
    U v;
    std::memcpy(&v, p, sizeof v);
    return swapped(v);
}
template <class U>
void store_big(std::uint8_t* p, std::uint64_t v) noexcept {
    const U b = swapped(static_cast<U>(v));
    std::memcpy(p, &b, sizeof b);
}
}  // namespace detail

inline std::uint64_t read_big_endian(const std::uint8_t* p, std::size_t width) {
    if constexpr (std::endian::native == std::endian::little) {
        if (width == 1) return p[0];
        if (width == 2) return detail::load_big<std::uint16_t>(p);
        if (width == 4) return detail::load_big<std::uint32_t>(p);
        if (width == 8) return detail::load_big<std::uint64_t>(p);
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = (v << 8) | p[i];
    return v;
}
inline void write_big_endian(std::uint8_t* p, std::uint64_t v, std::size_t width) {
    if constexpr (std::endian::native == std::endian::little) {
        if (width == 1) return void(p[0] = static_cast<std::uint8_t>(v));
        if (width == 2) return detail::store_big<std::uint16_t>(p, v);
        if (width == 4) return detail::store_big<std::uint32_t>(p, v);
        if (width == 8) return detail::store_big<std::uint64_t>(p, v);
    }
    for (std::size_t i = 0; i < width; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * (width - 1 - i)));
}

// Returns: a ROUTER/DEALER frame: the version byte, `type`, then the msgpack `body`.
std::vector<std::uint8_t> with_head(std::uint8_t type, const msgpack::sbuffer& body);

// Reads msgpack values where they lie: no object tree, no allocation. For decoders that run
// once per message (RPC headers), where unpack_exact would allocate a zone for its tree each
// time. Accepts what msgpack-cxx's object tree would: a non-negative number in a signed
// format is an unsigned one. Each read returns nothing or the error, and moves past what it
// read.
class span_reader {
public:
    explicit span_reader(std::span<const std::uint8_t> bytes) : b_(bytes) {}

    // An array header: its element count.
    std::optional<errc> array(std::uint64_t& count);
    std::optional<errc> uint(std::uint64_t& out);
    std::optional<errc> integer(std::int64_t& out);
    // A str of at most `max_len` bytes (else oversized), viewed in place.
    std::optional<errc> str(std::string_view& out, std::size_t max_len);
    // A bin of at most `max_len` bytes (else oversized), viewed in place.
    std::optional<errc> bin(std::span<const std::uint8_t>& out, std::size_t max_len);
    // Skips `count` whole objects nested at most `max_depth` deep (see skip_msgpack).
    std::optional<errc> skip(std::size_t count, std::size_t max_depth);
    bool at_end() const noexcept { return at_ == b_.size(); }
    // Returns: how many bytes have been read.
    std::size_t position() const noexcept { return at_; }

private:
    // Reads a big-endian number of `width` bytes.
    std::optional<errc> big_endian(std::size_t width, std::uint64_t& out);
    // Reads any msgpack integer: `negative` tells which of out's fields holds it.
    std::optional<errc> any_integer(std::uint64_t& u, std::int64_t& i, bool& negative);

    std::span<const std::uint8_t> b_;
    std::size_t at_ = 0;
};

// Inline: a decoder of a header that runs once per message (every RPC call, both ways) is
// then compiled as one function, its reads folded into it.
inline std::optional<errc> span_reader::big_endian(std::size_t width, std::uint64_t& out) {
    if (b_.size() - at_ < width) return errc::truncated;
    out = read_big_endian(&b_[at_], width);
    at_ += width;
    return std::nullopt;
}

inline std::optional<errc> span_reader::array(std::uint64_t& count) {
    if (at_ >= b_.size()) return errc::truncated;
    const std::uint8_t tag = b_[at_++];
    if ((tag & 0xf0) == 0x90) {
        count = tag & 0x0f;
        return std::nullopt;
    }
    if (tag == 0xdc || tag == 0xdd) return big_endian(tag == 0xdc ? 2 : 4, count);
    return errc::wrong_type;
}

inline std::optional<errc> span_reader::any_integer(std::uint64_t& u, std::int64_t& i, bool& negative) {
    if (at_ >= b_.size()) return errc::truncated;
    const std::uint8_t tag = b_[at_++];
    negative = false;
    if (tag <= 0x7f) {
        u = tag;
        return std::nullopt;
    }
    if (tag >= 0xe0) {
        negative = true;
        i = static_cast<std::int8_t>(tag);
        return std::nullopt;
    }
    if (tag >= 0xcc && tag <= 0xcf) return big_endian(std::size_t{1} << (tag - 0xcc), u);
    if (tag >= 0xd0 && tag <= 0xd3) {
        const std::size_t width = std::size_t{1} << (tag - 0xd0);
        std::uint64_t raw = 0;
        if (auto e = big_endian(width, raw)) return e;
        // Sign-extend from `width` bytes.
        const unsigned shift = static_cast<unsigned>(64 - 8 * width);
        const auto v = static_cast<std::int64_t>(raw << shift) >> shift;
        if (v >= 0) {
            u = static_cast<std::uint64_t>(v);
        } else {
            negative = true;
            i = v;
        }
        return std::nullopt;
    }
    return errc::wrong_type;
}

inline std::optional<errc> span_reader::uint(std::uint64_t& out) {
    std::int64_t ignored = 0;
    bool negative = false;
    if (auto e = any_integer(out, ignored, negative)) return e;
    if (negative) return errc::wrong_type;
    return std::nullopt;
}

inline std::optional<errc> span_reader::integer(std::int64_t& out) {
    std::uint64_t u = 0;
    bool negative = false;
    if (auto e = any_integer(u, out, negative)) return e;
    if (!negative) {
        if (u > static_cast<std::uint64_t>(INT64_MAX)) return errc::wrong_type;
        out = static_cast<std::int64_t>(u);
    }
    return std::nullopt;
}

inline std::optional<errc> span_reader::str(std::string_view& out, std::size_t max_len) {
    if (at_ >= b_.size()) return errc::truncated;
    const std::uint8_t tag = b_[at_++];
    std::uint64_t len = 0;
    if ((tag & 0xe0) == 0xa0)
        len = tag & 0x1f;
    else if (tag >= 0xd9 && tag <= 0xdb) {
        if (auto e = big_endian(std::size_t{1} << (tag - 0xd9), len)) return e;
    } else {
        return errc::wrong_type;
    }
    if (b_.size() - at_ < len) return errc::truncated;
    if (len > max_len) return errc::oversized;
    out = {reinterpret_cast<const char*>(b_.data() + at_), static_cast<std::size_t>(len)};
    at_ += static_cast<std::size_t>(len);
    return std::nullopt;
}

inline std::optional<errc> span_reader::bin(std::span<const std::uint8_t>& out, std::size_t max_len) {
    if (at_ >= b_.size()) return errc::truncated;
    const std::uint8_t tag = b_[at_++];
    if (tag < 0xc4 || tag > 0xc6) return errc::wrong_type;
    std::uint64_t len = 0;
    if (auto e = big_endian(std::size_t{1} << (tag - 0xc4), len)) return e;
    if (b_.size() - at_ < len) return errc::truncated;
    if (len > max_len) return errc::oversized;
    out = b_.subspan(at_, static_cast<std::size_t>(len));
    at_ += static_cast<std::size_t>(len);
    return std::nullopt;
}

inline std::optional<errc> span_reader::skip(std::size_t count, std::size_t max_depth) {
    if (count == 0) return std::nullopt;
    const auto end = skip_msgpack(b_.subspan(at_), count, max_depth);
    if (!end) return end.error();
    at_ += *end;
    return std::nullopt;
}

// ---- frames of ROUTER/DEALER messages: version, type, then a msgpack array ----------------

// msgpack-cxx's packer writes through one of these: the first counts what a frame takes, the
// second writes it. An encoder passes both through the same layout function, so a size and
// its frame cannot disagree.
struct size_counter {
    std::size_t size = 0;
    void write(const char*, std::size_t n) { size += n; }
};

// Writes into a buffer already checked to be large enough. A source already at the place it
// is written to (a frame encoded again in place) is not copied onto itself.
struct span_writer {
    std::uint8_t* at;
    void write(const char* data, std::size_t n) {
        if (n != 0 && reinterpret_cast<const std::uint8_t*>(data) != at) std::memcpy(at, data, n);
        at += n;
    }
};

template <class Writer>
void start_frame(Writer& w, std::uint8_t type) {
    const char head[] = {static_cast<char>(version), static_cast<char>(type)};
    w.write(head, sizeof head);
}

// What a frame's array may claim: its length, and the nesting of the fields after the known
// ones. The element counts inside ignored fields are not limited otherwise: the frame's own
// size bounds them, and nothing is built from them.
inline constexpr std::uint64_t max_frame_fields = 4096;
inline constexpr std::size_t max_extra_field_depth = 15;

// Returns: nothing when `frame` starts with `version`, `type` and an array of at least
// `known_fields` (at most max_frame_fields), with `r` (reading from the frame's offset 2) at
// its first field and `extra` the count of fields after the known ones; else truncated,
// bad_version, unknown_type (another type), wrong_type (not an array, or too short) or
// oversized.
inline std::optional<errc> open_frame(std::span<const std::uint8_t> frame, std::uint8_t type,
                                      std::uint64_t known_fields, span_reader& r, std::uint64_t& extra) {
    if (frame.size() < 2) return errc::truncated;
    if (frame[0] != version) return errc::bad_version;
    if (frame[1] != type) return errc::unknown_type;
    if (frame.size() == 2) return errc::truncated;
    std::uint64_t count = 0;
    if (auto e = r.array(count)) return e;
    if (count > max_frame_fields) return errc::oversized;
    if (count < known_fields) return errc::wrong_type;
    extra = count - known_fields;
    return std::nullopt;
}

// Walks the elements of a msgpack array, checking each one's type as it is read.
// The first failure sticks: later reads return empty values, and error() reports it, so a
// decoder reads every field and checks once at the end.
class field_reader {
public:
    // `array` must outlive the reader. A non-array, or fewer than `min_fields` elements,
    // is recorded as wrong_type.
    field_reader(const msgpack::object& array, std::size_t min_fields);

    bool has_more() const noexcept { return !error_ && next_ < size_; }
    std::optional<errc> error() const noexcept { return error_; }

    // Each returns the next element, or a default value after recording an error when the
    // element is missing, of the wrong msgpack type, or larger than `max`.
    std::string str(std::size_t max_len, bool allow_empty = true);
    std::uint64_t uint(std::uint64_t max = UINT64_MAX);
    bool boolean();
    node_id id();
    // A node id that may be the zero id, which stands for "none" (field_reader::id refuses it).
    node_id id_or_none();
    std::span<const std::uint8_t> bin(std::size_t max_len);
    const msgpack::object& object();   // any type; a nil object when missing

    // Marks the input as bad from outside (a semantic check in the decoder failed).
    void fail(errc e) noexcept { if (!error_) error_ = e; }

private:
    const msgpack::object* next_element(msgpack::type::object_type want);

    const msgpack::object* items_ = nullptr;
    std::uint32_t size_ = 0;
    std::uint32_t next_ = 0;
    std::optional<errc> error_;
};

}  // namespace zmesh::protocol
