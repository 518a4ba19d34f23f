// SPDX-License-Identifier: MPL-2.0
// beacons: choosing interfaces and the advertised host, sending and believing beacons.
#include "beacons.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace zmesh::detail {

namespace {

bool is_wildcard(const std::string& host) { return host == "*" || host == "0.0.0.0"; }

}  // namespace

beacons::beacons(node_context& ctx, security& sec) : ctx_(ctx), security_(sec) {
    const auto& opts = ctx_.opts;
    auto choice = discovery::choose_interfaces(discovery::list_ipv4_interfaces(), opts.interface);
    if (auto* error = std::get_if<std::string>(&choice)) {
        if (opts.beacon_interval.count() > 0 || !opts.interface.empty()) throw std::runtime_error(*error);
        choice = discovery::interface_choice{{{"lo", "127.0.0.1", true, true, true}}, "fallback"};
    }
    const auto& chosen = std::get<discovery::interface_choice>(choice);
    ctx_.log(log_level::info, "beacon interfaces: " + chosen.why);

    // In order of authority: what the user said, what we are bound to, else the LAN address
    // we beacon on (so seeds on other hosts can dial it), else loopback.
    if (!opts.advertise.empty())
        hello_host_ = opts.advertise;
    else if (!is_wildcard(opts.bind))
        hello_host_ = opts.bind;
    else {
        hello_host_ = chosen.chosen.front().ip;
        for (const auto& i : chosen.chosen)
            if (!i.loopback) hello_host_ = i.ip;
    }
    // Beacon receivers dial the datagram's source unless we must be dialled elsewhere.
    beacon_host_ = !opts.advertise.empty() ? opts.advertise : is_wildcard(opts.bind) ? std::string() : opts.bind;

    if (opts.beacon_interval.count() <= 0) return;
    try {
        socket_ = std::make_unique<discovery::beacon_socket>(opts.beacon_port, chosen.chosen);
    } catch (const std::system_error& e) {
        throw std::runtime_error(std::string("cannot open beacon: ") + e.what());
    }
    warn_if_open_to_the_lan(chosen.chosen);
}

void beacons::warn_if_open_to_the_lan(const std::vector<discovery::interface_info>& chosen) const {
    // The defaults join every plain node of mesh "default" on the LAN: two developers
    // running the examples on one network would join each other without a word.
    const auto& opts = ctx_.opts;
    if (security_.secured() || opts.observer) return;   // an observer does not beacon
    const auto lan = std::find_if(chosen.begin(), chosen.end(), [](const auto& i) { return !i.loopback; });
    if (lan == chosen.end()) return;
    ctx_.log(log_level::warn, "mesh '" + opts.mesh + "' is open to the LAN: this plain node beacons on " + lan->name +
                                  " (" + lan->ip + "), so any host there can join it; to keep it on this host use "
                                  "--interface lo (options::interface = \"lo\"), or secure the mesh (--key, "
                                  "options::secret_key)");
}

int beacons::fd() const { return socket_ ? socket_->fd() : -1; }

void beacons::send(bool asking) {
    const auto& opts = ctx_.opts;
    if (!socket_ || (opts.observer && !asking)) return;
    protocol::beacon b;
    b.asking = asking;
    b.mesh = opts.mesh;
    b.id = ctx_.id;
    b.name = opts.name;
    b.host = beacon_host_;
    b.pub_port = pub_port_;
    b.router_port = router_port_;
    if (!opts.mesh_secret.empty()) {
        // Signed anew each time: the timestamp is what makes a replay detectable.
        const auto secret = std::span(reinterpret_cast<const std::uint8_t*>(opts.mesh_secret.data()),
                                      opts.mesh_secret.size());
        bytes_ = protocol::encode_signed_beacon(b, unix_now_us(), secret);
    } else if (bytes_.empty() || bytes_asking_ != asking) {
        bytes_ = protocol::encode_beacon(b);
        bytes_asking_ = asking;
    }
    const int failures = socket_->send(bytes_);
    auto& stats = ctx_.stats;
    ++stats.beacons_sent;
    if (failures > 0) {
        if (stats.beacon_send_errors == 0)
            ctx_.log(log_level::warn, "beacon send failed on " + std::to_string(failures) +
                                          " interface(s): " + std::strerror(errno));
        stats.beacon_send_errors += static_cast<std::uint64_t>(failures);
    }
}

void beacons::on_readable(clock::time_point now,
                          const std::function<void(const protocol::beacon&, const std::string& host)>& heard) {
    if (!socket_) return;
    auto& stats = ctx_.stats;
    for (int i = 0; i < max_batch; ++i) {
        auto d = socket_->receive(protocol::max_beacon_size);
        if (!d) return;
        auto b = protocol::decode_beacon(d->bytes);
        if (!b) {
            ++stats.beacons_invalid;
            ctx_.log(log_level::debug, "dropped beacon from " + d->source_ip + ": " +
                                           std::string(protocol::to_string(b.error())));
            continue;
        }
        if (b->id == ctx_.id) continue;
        if (b->mesh != ctx_.opts.mesh) {
            ++stats.beacons_foreign_mesh;
            continue;
        }
        if (!security_.beacon_authentic(*b, d->bytes, unix_now_us(), now)) continue;
        ++stats.beacons_received;
        heard(*b, b->host.empty() ? d->source_ip : b->host);
    }
}

}  // namespace zmesh::detail
