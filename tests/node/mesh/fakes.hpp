// SPDX-License-Identifier: MPL-2.0
// The world around the mesh component, recorded: a wire that keeps what is sent and a host
// that keeps what it is told (tests/node/mesh).
#pragma once

#include "node/mesh/mesh.hpp"
#include "node/mesh/wire.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

namespace zmesh::detail::mesh_fakes {

using protocol::node_id;

class fake_wire : public mesh_wire {
public:
    struct sent_message {
        node_id to;
        protocol::control msg;
    };
    bool refuse_links = false;
    std::map<node_id, std::uint64_t> open;   // link -> token given
    std::vector<node_id> closed;
    std::vector<sent_message> sent;
    std::set<node_id> used;
    std::vector<protocol::hello> probes;
    int beacons = 0;
    int asks = 0;   // asking beacons
    bool seeds = false;
    struct datagram {
        discovery::udp_address to;
        std::vector<std::uint8_t> bytes;
    };
    std::vector<datagram> datagrams;

    bool open_link(const node_id& id, const std::string&, std::uint64_t token) override {
        if (refuse_links) return false;
        open[id] = token;
        used.insert(id);
        return true;
    }
    void close_link(const node_id& id) override {
        open.erase(id);
        closed.push_back(id);
    }
    void send(const node_id& id, const protocol::control& msg) override {
        if (open.contains(id)) sent.push_back({id, msg});
    }
    bool send_frame(const node_id& id, zmq::message_t&) override { return open.contains(id); }
    bool take_used(const node_id& id) override { return used.erase(id) > 0; }
    void mark_used(const node_id& id) override { used.insert(id); }
    void probe_seeds(const protocol::hello& h) override { probes.push_back(h); }
    bool has_seeds() const override { return seeds; }
    void send_beacon(bool asking) override { ++(asking ? asks : beacons); }
    bool send_gossip(const discovery::udp_address& to, std::span<const std::uint8_t> bytes) override {
        datagrams.push_back({to, {bytes.begin(), bytes.end()}});
        return true;
    }

    // Returns: the messages of type T sent to `to`, in order.
    template <typename T>
    std::vector<T> to(const node_id& id) const {
        std::vector<T> out;
        for (const auto& s : sent)
            if (s.to == id)
                if (const auto* m = std::get_if<T>(&s.msg)) out.push_back(*m);
        return out;
    }
};

class fake_host : public mesh_host {
public:
    bool allow = true;
    std::vector<discovery::peer_change> changes;
    std::vector<node_id> dialled, unlinked, linked;
    // Subscribes to "orders." when set: wants the events of a member that publishes under
    // that prefix or does not say what it publishes.
    bool events = false;
    std::optional<std::vector<std::string>> publishes;   // published_prefixes
    std::vector<node_id> stats_asked_by;

    void peer_changed(const discovery::peer_change& c) override { changes.push_back(c); }
    void peer_dialled(const node_id& id, const std::string&, const std::string&) override { dialled.push_back(id); }
    void peer_named(const node_id&, const std::string&) override {}
    void member_linked(const discovery::peer& p) override { linked.push_back(p.id); }
    bool wants_events_from(const discovery::peer& p) const override {
        return events && (!p.publishes || std::count(p.publishes->begin(), p.publishes->end(), "orders.") > 0);
    }
    std::set<node_id> awaiting;   // awaits_from
    bool awaits_from(const node_id& id) const override { return awaiting.contains(id); }
    void peer_unlinked(const node_id& id, const std::string&) override { unlinked.push_back(id); }
    bool may_dial(const node_id&) override { return allow; }
    std::vector<std::string> served_methods() const override { return {"echo"}; }
    std::optional<std::vector<std::string>> published_prefixes() const override { return publishes; }
    void peer_subscribes(discovery::peer&, protocol::subs&&) override {}
    void stats_asked(const node_id& from) override { stats_asked_by.push_back(from); }

    int count(discovery::change_kind k) const {
        int n = 0;
        for (const auto& c : changes) n += c.kind == k;
        return n;
    }
};

// A mesh under test and the world around it: its options, id, counters, wire and host, the
// time its test starts, and two ids for peers.
struct mesh_world {
    explicit mesh_world(options o) : opts_(std::move(o)) {}

    // A beacon of `id` on mesh "test", its PUB and ROUTER at ports `pub_port` and the next
    // of its host.
    static protocol::beacon beacon_of(const node_id& id, std::uint16_t pub_port = 5000) {
        protocol::beacon b;
        b.mesh = "test";
        b.id = id;
        b.name = "beaconing";
        b.pub_port = pub_port;
        b.router_port = static_cast<std::uint16_t>(pub_port + 1);
        return b;
    }

    options opts_;
    node_id self_ = node_id::random();
    node_stats stats_;
    node_context ctx_{opts_, self_, stats_};
    fake_wire wire_;
    fake_host host_;
    mesh m_{ctx_, wire_, host_};
    mesh::clock::time_point t0_ = mesh::clock::now();
    node_id a_ = node_id::random(), b_ = node_id::random();
};

}  // namespace zmesh::detail::mesh_fakes
