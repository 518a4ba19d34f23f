// SPDX-License-Identifier: MPL-2.0
// node_id: the 16 random bytes that name one node process for its whole life.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace zmesh {

class node_id {
public:
    static constexpr std::size_t size = 16;
    using bytes_type = std::array<std::uint8_t, size>;

    node_id() = default;   // all zero: "no id"
    explicit node_id(const bytes_type& b) : bytes_(b) {}

    // Returns: a fresh id from the OS random source (std::random_device).
    static node_id random();
    // Returns: the id in `b`, or nullopt when `b` is not exactly 16 bytes.
    static std::optional<node_id> from_bytes(std::span<const std::uint8_t> b);
    // Returns: the id written as 32 hex digits, or nullopt on any other text.
    static std::optional<node_id> from_hex(std::string_view hex);

    const bytes_type& bytes() const noexcept { return bytes_; }
    std::string hex() const;          // 32 lowercase hex digits
    std::string short_hex() const;    // first 8 hex digits, for logs and tables
    bool empty() const noexcept;

    auto operator<=>(const node_id&) const = default;
    // Two 8-byte compares, inline, instead of the defaulted == and its call to memcmp: an id
    // is always 16 bytes, and a reactor compares ids once or twice per RPC message.
    friend bool operator==(const node_id& a, const node_id& b) noexcept {
        std::uint64_t x[2], y[2];
        std::memcpy(x, a.bytes_.data(), size);
        std::memcpy(y, b.bytes_.data(), size);
        return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
    }

private:
    bytes_type bytes_{};
};

}  // namespace zmesh

template <>
struct std::hash<zmesh::node_id> {
    std::size_t operator()(const zmesh::node_id& id) const noexcept {
        // The bytes are uniformly random, so any 8 of them are a good hash.
        std::size_t h = 0;
        for (std::size_t i = 0; i < sizeof h; ++i) h = (h << 8) | id.bytes()[i];
        return h;
    }
};
