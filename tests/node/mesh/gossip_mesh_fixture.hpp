// SPDX-License-Identifier: MPL-2.0
// The mesh of a node that gossips, without sockets: a fixture whose node joins members by
// their HELLO (as newcomers) and hears gossip's news through a member's MEMBERS
// (tests/node/mesh).
#pragma once

#include "fakes.hpp"
#include "node/mesh/mesh.hpp"
#include "protocol/gossip.hpp"

#include <gtest/gtest.h>

namespace zmesh::detail::mesh_fakes {

using namespace std::chrono_literals;
using clock = mesh::clock;
using protocol::gossip_status;
using protocol::node_id;

class gossip_mesh : public ::testing::Test, protected mesh_world {
protected:
    gossip_mesh() : mesh_world(gossip_options()) { m_.advertise("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"); }

    static options gossip_options() {
        options o;
        o.mesh = "test";
        o.name = "self";
        o.gossip = true;
        return o;
    }
    clock::time_point at(int ms) const { return t0_ + std::chrono::milliseconds(ms); }
    static std::string endpoint(int port) { return "tcp://10.0.0.1:" + std::to_string(port); }

    // Makes `id` a joined member by its HELLO (as a newcomer), gossiping or not.
    void join(const node_id& id, std::uint64_t token, bool gossips, int port) {
        protocol::hello h;
        h.mesh = "test";
        h.id = id;
        h.name = "peer-" + id.short_hex();
        h.pub_endpoint = endpoint(port);
        h.router_endpoint = endpoint(port + 1);
        h.token = token;
        h.flags = protocol::hello_flag_call_links | (gossips ? protocol::hello_flag_gossip : 0);
        protocol::control msg = h;
        m_.on_control(protocol::sender_route{id, false, token}, msg, at(0));
        ASSERT_EQ(m_.table().find(id)->state, discovery::peer_state::joined);
        // A member that gossips answers our table with its own, itself in it.
        if (gossips) members_from(id, token, {false, {news(id, 1, gossip_status::alive, port)}}, 0);
    }
    void members_from(const node_id& from, std::uint64_t token, protocol::members m, int ms) {
        protocol::control msg = std::move(m);
        m_.on_control(protocol::sender_route{from, false, token}, msg, at(ms));
    }
    static protocol::gossip_update news(const node_id& id, std::uint32_t incarnation, gossip_status s,
                                        int port = 0) {
        protocol::gossip_update u{id, incarnation, s, {}, {}};
        if (s == gossip_status::alive)
            u.meta = protocol::encode_member_meta({"found", endpoint(port), endpoint(port + 1), false, {}, true});
        return u;
    }
};

}  // namespace zmesh::detail::mesh_fakes
