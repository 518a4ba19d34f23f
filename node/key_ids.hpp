// SPDX-License-Identifier: MPL-2.0
// key_ids: how a secured node's id is bound to its public key (defined in keys.cpp).
//
// The id is the key's first key_part_size bytes, which the allowlist and every sender check
// go by, then random bytes drawn at start: replicas started from one key are distinct
// members, and none can pose as a member holding another key.
#pragma once

#include "protocol/node_id.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace zmesh {

// The bytes of a secured node's id that come from its key.
inline constexpr std::size_t key_part_size = 8;
// Returns: a fresh id for a secured node with public key `key`: the key's first
// key_part_size bytes, then random bytes (this process's instance).
node_id new_id_for_key(const std::array<std::uint8_t, 32>& key);
// Returns: whether `id` is one a node holding public key `key` may have.
bool id_holds_key(const node_id& id, const std::array<std::uint8_t, 32>& key);
// Returns: the part of `id` that comes from its key, as a number (allowlist lookups).
std::uint64_t key_part_of(const node_id& id);
std::uint64_t key_part_of(const std::array<std::uint8_t, 32>& key);

}  // namespace zmesh
