// SPDX-License-Identifier: MPL-2.0
// sample_beacon: a valid beacon for the beacon codec tests to start from.
#pragma once

#include "protocol/beacon.hpp"

namespace zmesh::test {

inline protocol::beacon sample_beacon() {
    protocol::beacon b;
    b.mesh = "lab";
    b.id = protocol::node_id::random();
    b.name = "alpha";
    b.host = "192.0.2.9";
    b.pub_port = 5001;
    b.router_port = 5002;
    return b;
}

}  // namespace zmesh::test
