// SPDX-License-Identifier: MPL-2.0
// part_blocks: small parts of received frames (events' payloads for handler threads),
// copied into shared blocks, many to a block. Sharing each frame instead cost an allocation
// per event for its owner, freed on the handler thread, and every frame kept also kept
// libzmq's receive buffer it points into. A block is held by every part copied into it, so
// an event kept after its handler pins one block, about what a kept frame pinned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

namespace zmesh::detail {

class part_blocks {
public:
    static constexpr std::size_t block_size = 8 * 1024;
    static constexpr std::size_t max_part = 1024;   // larger parts share their frame

    // Returns: the owner of a copy of `part`, and the copy.
    // Precondition: part.size() <= max_part.
    std::pair<std::shared_ptr<const void>, std::span<const std::uint8_t>> copy(
        std::span<const std::uint8_t> part) {
        if (!block_ || used_ + part.size() > block_size) {
            block_ = std::shared_ptr<std::uint8_t[]>(new std::uint8_t[block_size]);
            used_ = 0;
        }
        auto* at = block_.get() + used_;
        if (!part.empty()) std::memcpy(at, part.data(), part.size());
        used_ += part.size();
        return {std::shared_ptr<const void>(block_, at), {at, part.size()}};
    }

private:
    std::shared_ptr<std::uint8_t[]> block_;
    std::size_t used_ = 0;
};

}  // namespace zmesh::detail
