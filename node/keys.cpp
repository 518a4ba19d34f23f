// SPDX-License-Identifier: MPL-2.0
// keys: keypairs and their files (<zmesh/keys.hpp>), and ids bound to keys (key_ids.hpp).
#include <zmesh/keys.hpp>

#include "key_ids.hpp"
#include "protocol/beacon.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace zmesh {

keypair generate_keypair() {
    char pub[41] = {}, sec[41] = {};
    if (!zmq_has("curve") || zmq_curve_keypair(pub, sec) != 0)
        throw std::runtime_error("this libzmq has no CURVE support");
    return {pub, sec};
}

std::optional<std::array<std::uint8_t, 32>> decode_key(const std::string& z85) {
    std::array<std::uint8_t, 32> key{};
    if (z85.size() != 40 || !zmq_z85_decode(key.data(), z85.c_str())) return std::nullopt;
    return key;
}

std::string public_key_of(const std::string& secret) {
    char pub[41] = {};
    if (!decode_key(secret) || zmq_curve_public(pub, secret.c_str()) != 0)
        throw std::invalid_argument("not a Z85 CURVE secret key (40 characters)");
    return pub;
}

protocol::node_id new_id_for_key(const std::array<std::uint8_t, 32>& key) {
    auto b = protocol::node_id::random().bytes();
    std::memcpy(b.data(), key.data(), key_part_size);
    return protocol::node_id(b);
}

bool id_holds_key(const protocol::node_id& id, const std::array<std::uint8_t, 32>& key) {
    return std::memcmp(id.bytes().data(), key.data(), key_part_size) == 0;
}

std::uint64_t key_part_of(const protocol::node_id& id) {
    std::uint64_t part = 0;
    std::memcpy(&part, id.bytes().data(), key_part_size);
    return part;
}

std::uint64_t key_part_of(const std::array<std::uint8_t, 32>& key) {
    std::uint64_t part = 0;
    std::memcpy(&part, key.data(), key_part_size);
    return part;
}

seed_address split_seed(const std::string& seed) {
    // The last '@': Z85 keys may hold '@', a tcp:// endpoint never does.
    const auto at = seed.rfind('@');
    if (at == std::string::npos) return {"", seed};
    return {seed.substr(0, at), seed.substr(at + 1)};
}

namespace {

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    // O_EXCL: an existing key is never overwritten by accident.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    const std::string line = text + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path);
}

}  // namespace

void write_keypair(const keypair& pair, const std::string& path) {
    write_file(path + ".key", pair.secret_key, 0600);
    write_file(path + ".pub", pair.public_key, 0644);
}

namespace {

// Secrets are refused when others could read them: better to stop than to run on a leaked key.
void check_private(const std::string& path, const char* what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw std::runtime_error(std::string(what) + " " + path + ": " + std::strerror(errno));
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        throw std::runtime_error(std::string(what) + " " + path +
                                 " is readable by others: chmod 600 it (or make a new one)");
}

}  // namespace

std::string read_secret_key(const std::string& path) {
    // Checked first: a .pub file is readable by others by design, and "chmod 600 it" would
    // send the user the wrong way.
    if (path.ends_with(".pub"))
        throw std::runtime_error("secret key " + path + ": this is a public key, not a secret key (use " +
                                 path.substr(0, path.size() - 4) + ".key)");
    check_private(path, "secret key");
    std::ifstream in(path);
    std::string key;
    in >> key;
    if (!decode_key(key)) throw std::runtime_error("secret key " + path + " holds no Z85 key");
    return key;
}

void write_mesh_secret(const std::string& path) {
    std::array<std::uint8_t, 32> bytes{};
    if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
        throw std::runtime_error(std::string("no random bytes: ") + std::strerror(errno));
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (const auto b : bytes) {
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    write_file(path, hex, 0600);
}

std::string read_mesh_secret(const std::string& path) {
    check_private(path, "mesh secret");
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    const auto first = line.find_first_not_of(" \t\r");
    const auto last = line.find_last_not_of(" \t\r");
    const auto secret = first == std::string::npos ? std::string() : line.substr(first, last - first + 1);
    if (secret.size() < protocol::min_mesh_secret_size)
        throw std::runtime_error("mesh secret " + path + " is shorter than " +
                                 std::to_string(protocol::min_mesh_secret_size) +
                                 " characters (zmesh keygen --mesh-secret FILE makes one)");
    return secret;
}

}  // namespace zmesh
