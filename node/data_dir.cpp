// SPDX-License-Identifier: MPL-2.0
// data_dir: the node id file (written whole, then renamed into place) and the lock file.
#include "data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace zmesh::detail {

namespace fs = std::filesystem;

node_id kept_node_id(const std::string& dir, const std::function<node_id()>& fresh,
                     const std::function<bool(const node_id&)>& keep) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create data directory " + dir + ": " + ec.message());
    const auto path = fs::path(dir) / "node_id";
    if (std::ifstream in(path); in) {
        std::string hex;
        in >> hex;
        const auto id = node_id::from_hex(hex);
        if (!id) throw std::runtime_error(path.string() + " does not hold a node id (32 hex digits)");
        if (!keep || keep(*id)) return *id;
    }
    const auto id = fresh();
    const auto temp = fs::path(dir) / "node_id.new";
    {
        std::ofstream out(temp, std::ios::trunc);
        out << id.hex() << '\n';
        if (!out.flush()) throw std::runtime_error("cannot write " + temp.string());
    }
    fs::rename(temp, path, ec);
    if (ec) throw std::runtime_error("cannot write " + path.string() + ": " + ec.message());
    return id;
}

data_dir_lock::data_dir_lock(const std::string& dir) {
    const auto path = (fs::path(dir) / "lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        throw std::runtime_error("data directory " + dir + " is in use by another running node");
    }
}

data_dir_lock::~data_dir_lock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace zmesh::detail
