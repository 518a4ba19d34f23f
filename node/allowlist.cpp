// SPDX-License-Identifier: MPL-2.0
#include "allowlist.hpp"

#include "key_ids.hpp"

#include <zmesh/keys.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace zmesh::detail {

namespace fs = std::filesystem;

allowlist::allowlist(const std::vector<std::string>& keys, std::string dir) : dir_(std::move(dir)) {
    for (const auto& k : keys) {
        const auto key = decode_key(k);
        if (!key) throw std::invalid_argument("allowed key '" + k + "' is not a Z85 public key");
        fixed_.push_back(*key);
    }
    std::error_code ec;
    if (!dir_.empty() && !fs::is_directory(dir_, ec))
        throw std::invalid_argument("allow directory " + dir_ + " is not a readable directory");
    reload();
}

bool allowlist::allows(const curve_key& key) const {
    const auto it = by_id_.find(key_part_of(key));
    return it != by_id_.end() && it->second == key;
}

std::optional<curve_key> allowlist::key_for(const protocol::node_id& id) const {
    const auto it = by_id_.find(key_part_of(id));
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
}

bool allowlist::reload(std::vector<std::string>* skipped) {
    // What the directory holds now, cheaply: name, size and change time of each *.pub.
    std::vector<fs::path> files;
    std::string signature;
    std::error_code ec;
    if (!dir_.empty())
        for (const auto& entry : fs::directory_iterator(dir_, ec)) {
            if (entry.path().extension() != ".pub") continue;
            struct stat st {};
            if (::stat(entry.path().c_str(), &st) != 0) continue;
            files.push_back(entry.path());
            signature += entry.path().filename().string() + ":" + std::to_string(st.st_size) + ":" +
                         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ";";
        }
    std::sort(files.begin(), files.end());
    if (loaded_ && signature == dir_signature_) return false;
    loaded_ = true;
    dir_signature_ = signature;

    std::map<std::uint64_t, curve_key> next;
    for (const auto& k : fixed_) next[key_part_of(k)] = k;
    for (const auto& f : files) {
        std::ifstream in(f);
        std::string text;
        in >> text;
        const auto key = decode_key(text);
        if (!key) {
            if (skipped) skipped->push_back(f.string());
            continue;
        }
        next[key_part_of(*key)] = *key;
    }
    const bool changed = next != by_id_;
    by_id_ = std::move(next);
    return changed;
}

}  // namespace zmesh::detail
