// SPDX-License-Identifier: MPL-2.0
// seed_probes: the probes' bounds, set before they connect.
#include "seeds.hpp"

#include "sockets.hpp"

#include <zmesh/keys.hpp>

namespace zmesh::detail {

namespace {
// The most a probe takes in: whatever is at a seed's endpoint may queue one small frame.
constexpr std::int64_t max_probe_frame = 512;
}  // namespace

seed_probes::seed_probes(node_context& ctx, zmq::context_t& net, const security& sec) : ctx_(ctx) {
    for (const auto& s : ctx_.opts.seeds) {
        const auto seed = split_seed(s);
        zmq::socket_t probe(net, zmq::socket_type::dealer);
        probe.set(zmq::sockopt::linger, 0);
        sec.secure_probe(probe, seed.key, seed.endpoint);
        // Without a connection a probe HELLO is dropped, not queued: a seed that comes back
        // later gets one fresh HELLO, not a backlog.
        probe.set(zmq::sockopt::immediate, 1);
        probe.set(zmq::sockopt::sndhwm, 4);
        // Nothing comes back on a probe (the seed answers by dialling us), and it is never
        // read: whatever is at that endpoint may queue one small frame there, no more.
        probe.set(zmq::sockopt::rcvhwm, 1);
        probe.set(zmq::sockopt::maxmsgsize, max_probe_frame);
        probe.connect(seed.endpoint);
        probes_.push_back(std::move(probe));
    }
}

void seed_probes::send(std::span<const std::uint8_t> frame) {
    for (auto& probe : probes_)
        if (!probe.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait))
            ++ctx_.stats.sends_dropped;
}

void mesh_sockets::probe_seeds(const protocol::hello& h) {
    if (seeds_.empty()) return;
    try {
        seeds_.send(protocol::encode_control(h));
    } catch (const std::length_error& e) {
        // Our own fields are validated at start, so this is a bug: report it, keep running.
        ++ctx_.stats.sends_dropped;
        ctx_.log(log_level::error, std::string("cannot encode HELLO: ") + e.what());
    }
}

}  // namespace zmesh::detail
