// SPDX-License-Identifier: MPL-2.0
// peer_table fixture: synthetic time points, ids and HELLOs, and a table with one peer `a`.
#pragma once

#include "discovery/peer_table.hpp"

#include <gtest/gtest.h>

namespace zmesh::discovery::test {

using protocol::hello;
using protocol::node_id;

inline clock::time_point at(int ms) { return clock::time_point{} + milliseconds(ms); }

inline liveness_config test_config() {
    liveness_config c;
    c.heartbeat = milliseconds(100);
    c.evasive = milliseconds(1000);
    c.expired = milliseconds(3000);
    c.handshake = milliseconds(2000);
    c.disconnect_grace = milliseconds(500);
    return c;
}

inline node_id id_of(std::uint8_t fill) {
    node_id::bytes_type b;
    b.fill(fill);
    return node_id(b);
}

inline hello hello_from(const node_id& id, std::uint8_t flags = 0) {
    return hello{"lab", id, "declared", "tcp://10.0.0.1:7001", "tcp://10.0.0.1:7002", flags,
                 {"echo", "sum"}};
}

class peer_table_liveness : public ::testing::Test {
protected:
    peer_table table{test_config()};
    const node_id a = id_of(0xa1);

    peer& add_a(int now = 0) {
        return table.add(a, "dialled", "tcp://192.0.2.1:6001", "tcp://192.0.2.1:6002", at(now), 0xa1a1);
    }
    // Adds `a` at time 0 and completes its handshake at `now`.
    peer& joined_a(int now = 0) {
        peer& p = add_a();
        EXPECT_TRUE(table.on_hello(p, hello_from(a), at(now)));
        EXPECT_EQ(p.state, peer_state::joined);
        return p;
    }
};

}  // namespace zmesh::discovery::test
