// SPDX-License-Identifier: MPL-2.0
// wire_builder: hand-crafted msgpack fields and frames, so codec tests can build inputs the
// encoders would never produce.
#pragma once

#include "protocol/node_id.hpp"
#include "protocol/result.hpp"

#include <msgpack.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace zmesh::test {

// Returns: the error of `r`, or nullopt when it holds a value (never asserts).
template <class T>
std::optional<protocol::errc> failure(const protocol::result<T>& r) {
    if (r) return std::nullopt;
    return r.error();
}

using bytes = std::vector<std::uint8_t>;
using packer = msgpack::packer<msgpack::sbuffer>;
// One msgpack value, written when the frame is built.
using field = std::function<void(packer&)>;

inline field str_field(std::string s) {
    return [s = std::move(s)](packer& pk) { pk.pack(s); };
}
inline field uint_field(std::uint64_t v) {
    return [v](packer& pk) { pk.pack(v); };
}
inline field int_field(std::int64_t v) {
    return [v](packer& pk) { pk.pack(v); };
}
inline field bool_field(bool v) {
    return [v](packer& pk) { pk.pack(v); };
}
inline field nil_field() {
    return [](packer& pk) { pk.pack_nil(); };
}
// Note: msgpack-c packs an integral double (1.0) as an integer; use a fraction.
inline field float_field(double v) {
    return [v](packer& pk) { pk.pack(v); };
}
// A bin of `size` bytes, each `fill`.
inline field bin_field(std::size_t size, std::uint8_t fill = 0xab) {
    return [size, fill](packer& pk) {
        const std::string body(size, static_cast<char>(fill));
        pk.pack_bin(static_cast<std::uint32_t>(size));
        pk.pack_bin_body(body.data(), static_cast<std::uint32_t>(size));
    };
}
inline field array_field(std::vector<field> items) {
    return [items = std::move(items)](packer& pk) {
        pk.pack_array(static_cast<std::uint32_t>(items.size()));
        for (const auto& f : items) f(pk);
    };
}
inline field map_field() {
    return [](packer& pk) {
        pk.pack_map(1);
        pk.pack(std::string("k"));
        pk.pack(1);
    };
}

// Returns: the msgpack encoding of one value.
inline bytes pack(const field& f) {
    msgpack::sbuffer buf;
    packer pk(buf);
    f(pk);
    return bytes(buf.data(), buf.data() + buf.size());
}

// Returns: `head` followed by the msgpack encoding of `body`.
inline bytes frame(bytes head, const field& body) {
    const bytes b = pack(body);
    head.insert(head.end(), b.begin(), b.end());
    return head;
}

// Returns: the id of 16 bytes `fill`.
inline zmesh::node_id id_of(std::uint8_t fill) {
    zmesh::node_id::bytes_type b;
    b.fill(fill);
    return zmesh::node_id(b);
}

// Returns: `n` bytes from `rng`.
inline bytes random_bytes(std::mt19937& rng, std::size_t n) {
    std::uniform_int_distribution<int> byte(0, 255);
    bytes out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(byte(rng));
    return out;
}

}  // namespace zmesh::test
