// SPDX-License-Identifier: MPL-2.0
#include "secure.hpp"

#include <zmesh/keys.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace zmesh::bench {

namespace fs = std::filesystem;

key_dir::key_dir(const std::vector<std::string>& names) {
    std::string tmpl = (fs::temp_directory_path() / "zmesh-bench-keys-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = tmpl;
    try {
        fs::create_directory(fs::path(path_) / "allow");
        write_mesh_secret(path_ + "/mesh.secret");
        for (const auto& name : names) {
            const auto pair = generate_keypair();
            write_keypair(pair, path_ + "/" + name);
            fs::rename(path_ + "/" + name + ".pub", path_ + "/allow/" + name + ".pub");
        }
    } catch (...) {
        fs::remove_all(path_);
        throw;
    }
}

key_dir::~key_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

void secure_node(options& o, const std::string& dir, const std::string& key_name) {
    o.secret_key = read_secret_key(dir + "/" + key_name + ".key");
    o.allow_dir = dir + "/allow";
    o.mesh_secret = read_mesh_secret(dir + "/mesh.secret");
}

void secure_raw_server(zmq::socket_t& s, const std::string& dir, const std::string& key_name) {
    s.set(zmq::sockopt::curve_server, 1);
    s.set(zmq::sockopt::curve_secretkey, read_secret_key(dir + "/" + key_name + ".key"));
}

void secure_raw_client(zmq::socket_t& s, const std::string& dir, const std::string& key_name,
                       const std::string& server_name) {
    const auto secret = read_secret_key(dir + "/" + key_name + ".key");
    std::ifstream server(dir + "/allow/" + server_name + ".pub");
    std::string server_key;
    server >> server_key;
    s.set(zmq::sockopt::curve_serverkey, server_key);
    s.set(zmq::sockopt::curve_publickey, public_key_of(secret));
    s.set(zmq::sockopt::curve_secretkey, secret);
}

}  // namespace zmesh::bench
