// SPDX-License-Identifier: MPL-2.0
// node_id (<zmesh/node_id.hpp>): random generation and hex conversion; here because the
// codecs read and write ids, and protocol/ is the library every other one links.
#include <zmesh/node_id.hpp>

#include <algorithm>
#include <random>

namespace zmesh {

node_id node_id::random() {
    std::random_device rd;
    bytes_type b;
    for (std::size_t i = 0; i < size; i += 4) {
        const std::uint32_t r = rd();
        for (std::size_t j = 0; j < 4; ++j) b[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
    }
    return node_id(b);
}

std::optional<node_id> node_id::from_bytes(std::span<const std::uint8_t> b) {
    if (b.size() != size) return std::nullopt;
    bytes_type out;
    std::copy(b.begin(), b.end(), out.begin());
    return node_id(out);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<node_id> node_id::from_hex(std::string_view hex) {
    if (hex.size() != 2 * size) return std::nullopt;
    bytes_type out;
    for (std::size_t i = 0; i < size; ++i) {
        const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return node_id(out);
}

std::string node_id::hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * size);
    for (auto byte : bytes_) {
        s.push_back(digits[byte >> 4]);
        s.push_back(digits[byte & 0xf]);
    }
    return s;
}

std::string node_id::short_hex() const { return hex().substr(0, 8); }

bool node_id::empty() const noexcept {
    return std::all_of(bytes_.begin(), bytes_.end(), [](auto b) { return b == 0; });
}

}  // namespace zmesh
