// SPDX-License-Identifier: MPL-2.0
// keys: CURVE keypairs for a secured mesh, and the files they live in.
//
// A secured node has its own keypair (options::secret_key); every connection it makes or
// accepts is encrypted and authenticated with CurveZMQ, and it talks only to nodes whose
// public key is on its allowlist (options::allowed_keys, options::allow_dir).
//
// Files: NAME.key holds the Z85 secret key (40 characters and a newline, mode 0600);
// NAME.pub holds the Z85 public key. An allow directory holds the members' *.pub files.
//
// A key names a service, not a process: replicas started from one credential are distinct
// members. A secured node's id is the first 8 bytes of its public key (which the allowlist
// and every sender check go by) then 8 random bytes drawn at start (the instance).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace zmesh {

struct keypair {
    std::string public_key;   // Z85, 40 characters
    std::string secret_key;   // Z85, 40 characters
};

// Returns: a fresh keypair. Throws std::runtime_error when libzmq has no CURVE support.
keypair generate_keypair();

// Returns: the public key of a Z85 secret key. Throws std::invalid_argument when `secret` is
// not one.
std::string public_key_of(const std::string& secret);

// Returns: the 32 key bytes of a Z85 key, or nullopt when `z85` is not a 40-character key.
std::optional<std::array<std::uint8_t, 32>> decode_key(const std::string& z85);

// A seed of a secured mesh names the key it must hold: "KEY@tcp://HOST:PORT".
struct seed_address {
    std::string key;        // Z85 public key; empty for a plain seed "tcp://HOST:PORT"
    std::string endpoint;   // tcp://HOST:PORT
};
// Returns: `seed` split at its last '@'. Does not check either part.
seed_address split_seed(const std::string& seed);

// Writes `pair` to `path`.key (mode 0600, refused when it exists) and `path`.pub.
// Throws std::runtime_error with a one-line reason.
void write_keypair(const keypair& pair, const std::string& path);

// Returns: the Z85 secret key in the file at `path`. Throws std::runtime_error with a
// one-line reason when it is a NAME.pub file (a public key), missing, readable by group or
// others, or not a key.
std::string read_secret_key(const std::string& path);

// The mesh secret signs beacons (options::mesh_secret): one line of at least 16 characters,
// shared by every member, in a file of mode 0600.
//
// Writes 32 random bytes, hex-encoded, to `path` (mode 0600, refused when it exists).
// Throws std::runtime_error with a one-line reason.
void write_mesh_secret(const std::string& path);

// Returns: the mesh secret in the file at `path` (its first line, without surrounding blanks).
// Throws std::runtime_error with a one-line reason when the file is missing, readable by group
// or others, or the secret is shorter than 16 characters.
std::string read_mesh_secret(const std::string& path);

}  // namespace zmesh
