// SPDX-License-Identifier: MPL-2.0
// secure: key material for `zmesh-bench ... --secure`. Every peer process of a secured run
// needs a key of its own (a secured node's id is its key), so the parent makes throwaway
// keys for them all in a private directory and hands each child the directory and its name.
#pragma once

#include "bench.hpp"

#include <zmesh/options.hpp>

#include <zmq.hpp>

#include <string>
#include <vector>

namespace zmesh::bench {

// A private directory (mode 0700) holding NAME.key for each name, allow/NAME.pub for each,
// and mesh.secret; removed with everything in it when this is destroyed.
class key_dir {
public:
    explicit key_dir(const std::vector<std::string>& names);

    const std::string& path() const { return dir_.path(); }

private:
    temp_dir dir_{"zmesh-bench-keys-"};
};

// Makes `o` a secured node keyed as `key_name` from the directory at `dir`: CURVE with its
// key, the directory's allowlist, signed beacons. Throws std::runtime_error as read_secret_key.
void secure_node(options& o, const std::string& dir, const std::string& key_name);

// Makes `s` a CURVE server (for a raw PUB) or a CURVE client of `server_name` (for a raw SUB)
// with `key_name`'s key from `dir`: libzmq's own encryption, the baseline of a secured run.
void secure_raw_server(zmq::socket_t& s, const std::string& dir, const std::string& key_name);
void secure_raw_client(zmq::socket_t& s, const std::string& dir, const std::string& key_name,
                       const std::string& server_name);

}  // namespace zmesh::bench
