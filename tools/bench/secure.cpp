// SPDX-License-Identifier: MPL-2.0
#include "secure.hpp"

#include <zmesh/keys.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace zmesh::bench {

namespace fs = std::filesystem;

key_dir::key_dir(const std::vector<std::string>& names) {
    // A failure midway leaves nothing behind: dir_ is a member, destroyed as this throws.
    const auto& path = dir_.path();
    fs::create_directory(fs::path(path) / "allow");
    write_mesh_secret(path + "/mesh.secret");
    for (const auto& name : names) {
        const auto pair = generate_keypair();
        write_keypair(pair, path + "/" + name);
        fs::rename(path + "/" + name + ".pub", path + "/allow/" + name + ".pub");
    }
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
