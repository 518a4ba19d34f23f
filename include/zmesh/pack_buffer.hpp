// SPDX-License-Identifier: MPL-2.0
// pack_buffer: a reusable byte buffer that msgpack-cxx packs into.
//
//   zmesh::pack_buffer b;
//   msgpack::pack(b, value);                   // appends value's msgpack bytes
//   n.publish_packed("orders.created", b.bytes());
//   b.clear();                                 // keeps its room for the next value
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace zmesh {

// What node::call() packs its arguments into, one reused per thread. Packing writes each tag
// and each body apart; here a write is a bounds check and a copy, where a vector's insert is
// a general routine and an sbuffer starts with an 8 KiB allocation. Not thread-safe.
class pack_buffer {
public:
    // Appends `size` bytes (msgpack-cxx's buffer interface). Throws std::bad_alloc.
    void write(const char* data, std::size_t size) {
        if (size == 0) return;
        if (capacity_ - size_ < size) grow(size);
        std::memcpy(bytes_.get() + size_, data, size);
        size_ += size;
    }
    // Empties it; its room is kept.
    void clear() noexcept { size_ = 0; }
    // Empties it and gives its memory back.
    void release() noexcept {
        bytes_.reset();
        size_ = capacity_ = 0;
    }
    // Returns: what was written since the last clear(); valid until the next write or clear.
    std::span<const std::uint8_t> bytes() const noexcept { return {bytes_.get(), size_}; }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    void grow(std::size_t more) {
        capacity_ = std::max({size_ + more, 2 * capacity_, std::size_t{64}});
        auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(capacity_);
        if (size_ > 0) std::memcpy(bigger.get(), bytes_.get(), size_);
        bytes_ = std::move(bigger);
    }

    std::unique_ptr<std::uint8_t[]> bytes_;
    std::size_t size_ = 0, capacity_ = 0;
};

}  // namespace zmesh
