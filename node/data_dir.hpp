// SPDX-License-Identifier: MPL-2.0
// data_dir: what a node keeps in options::data_dir besides its streams' log — its id, so a
// node restarted on the directory is the same publisher to its consumers, and a lock, so two
// running nodes never share one log.
#pragma once

#include <zmesh/node_id.hpp>

#include <functional>
#include <string>

namespace zmesh::detail {

// Returns: the id kept in `dir`, when there is one that `keep` accepts; else one from
// `fresh`, written there first (and the directory created). Throws std::runtime_error when
// it can be neither read nor written, or the file does not hold an id.
node_id kept_node_id(const std::string& dir, const std::function<node_id()>& fresh = node_id::random,
                     const std::function<bool(const node_id&)>& keep = {});

// Holds `dir`'s lock while it lives (released by the OS if the process dies).
class data_dir_lock {
public:
    // Throws std::runtime_error when another process (or node) holds it.
    explicit data_dir_lock(const std::string& dir);
    ~data_dir_lock();
    data_dir_lock(const data_dir_lock&) = delete;
    data_dir_lock& operator=(const data_dir_lock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace zmesh::detail
