// SPDX-License-Identifier: MPL-2.0
// mesh_sockets: the mesh_wire of a running node — its links, its seed probes and its beacon.
#pragma once

#include "beacons.hpp"
#include "links.hpp"
#include "seeds.hpp"
#include "wire.hpp"

namespace zmesh::detail {

class mesh_sockets final : public mesh_wire {
public:
    mesh_sockets(node_context& ctx, links& l, seed_probes& s, beacons& b)
        : ctx_(ctx), links_(l), seeds_(s), beacons_(b) {}

    // The gossip socket, once bound (a node that gossips; see options::gossip).
    void use_gossip(discovery::gossip_socket& g) noexcept { gossip_ = &g; }

    bool open_link(const protocol::node_id& id, const std::string& router_endpoint,
                   std::uint64_t token) override {
        return links_.open(id, router_endpoint, token);
    }
    void close_link(const protocol::node_id& id) override { links_.close(id); }
    void send(const protocol::node_id& id, const protocol::control& msg) override { links_.send(id, msg); }
    bool send_frame(const protocol::node_id& id, zmq::message_t& frame) override { return links_.send(id, frame); }
    bool take_used(const protocol::node_id& id) override { return links_.take_used(id); }
    void mark_used(const protocol::node_id& id) override { links_.mark_used(id); }
    void probe_seeds(const protocol::hello& h) override;
    bool has_seeds() const override { return !seeds_.empty(); }
    void send_beacon(bool asking) override { beacons_.send(asking); }
    bool send_gossip(const discovery::udp_address& to, std::span<const std::uint8_t> bytes) override {
        return gossip_ && gossip_->send(to, bytes);
    }

private:
    node_context& ctx_;
    links& links_;
    seed_probes& seeds_;
    beacons& beacons_;
    discovery::gossip_socket* gossip_ = nullptr;
};

}  // namespace zmesh::detail
