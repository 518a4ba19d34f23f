// SPDX-License-Identifier: MPL-2.0
// allowlist: the public keys a secured node talks to — given in options, and read from a
// directory of *.pub files that is re-read when it changes (so members can be added or
// revoked while nodes run). Owned by the reactor thread.
#pragma once

#include "protocol/node_id.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace zmesh::detail {

using curve_key = std::array<std::uint8_t, 32>;

class allowlist {
public:
    // Throws std::invalid_argument for a key in `keys` that is not Z85, or an unreadable `dir`.
    allowlist(const std::vector<std::string>& keys, std::string dir);

    // Re-reads the directory if it changed since the last read. Returns: true when the set
    // of keys changed. A file that holds no key is skipped (and named in `skipped`).
    bool reload(std::vector<std::string>* skipped = nullptr);

    bool allows(const curve_key& key) const;
    // Returns: the allowed key of a node whose id is `id` (see key_ids.hpp), or nullopt.
    std::optional<curve_key> key_for(const protocol::node_id& id) const;
    std::size_t size() const { return by_id_.size(); }

private:
    std::vector<curve_key> fixed_;     // from options: always allowed
    std::string dir_;
    std::string dir_signature_;        // names, sizes and times of its files at the last read
    bool loaded_ = false;
    std::map<std::uint64_t, curve_key> by_id_;   // by key_part_of
};

}  // namespace zmesh::detail
