// SPDX-License-Identifier: MPL-2.0
// reactor, beacons: the UDP beacon socket, what this node announces, and which beacons it
// believes (signed, fresh, of its mesh) before dialling anyone.
#include "reactor.hpp"

#include "protocol/beacon.hpp"
#include "protocol/endpoint.hpp"

namespace zmesh::detail {

namespace {

bool is_wildcard(const std::string& host) { return host == "*" || host == "0.0.0.0"; }

}  // namespace

void reactor::open_beacon() {
    auto choice = discovery::choose_interfaces(discovery::list_ipv4_interfaces(), opts_.interface);
    if (auto* error = std::get_if<std::string>(&choice)) {
        if (opts_.beacon_interval.count() > 0 || !opts_.interface.empty())
            throw std::runtime_error(*error);
        choice = discovery::interface_choice{{{"lo", "127.0.0.1", true, true, true}}, "fallback"};
    }
    const auto& chosen = std::get<discovery::interface_choice>(choice);
    log(log_level::info, "beacon interfaces: " + chosen.why);

    // The host others dial, in order of authority: what the user said, what we are bound to,
    // else the LAN address we beacon on (so seeds on other hosts can dial it), else loopback.
    if (!opts_.advertise.empty())
        hello_host_ = opts_.advertise;
    else if (!is_wildcard(opts_.bind))
        hello_host_ = opts_.bind;
    else {
        hello_host_ = chosen.chosen.front().ip;
        for (const auto& i : chosen.chosen)
            if (!i.loopback) hello_host_ = i.ip;
    }
    // Beacon receivers dial the datagram's source unless we must be dialled elsewhere.
    beacon_host_ = !opts_.advertise.empty() ? opts_.advertise
                   : is_wildcard(opts_.bind) ? std::string()
                                             : opts_.bind;

    if (opts_.beacon_interval.count() <= 0) return;
    try {
        beacon_ = std::make_unique<discovery::beacon_socket>(opts_.beacon_port, chosen.chosen);
    } catch (const std::system_error& e) {
        throw std::runtime_error(std::string("cannot open beacon: ") + e.what());
    }
}

void reactor::send_beacon() {
    if (opts_.observer) return;   // a watcher listens; it is not a member to be found
    protocol::beacon b;
    b.mesh = opts_.mesh;
    b.id = id_;
    b.name = opts_.name;
    b.host = beacon_host_;
    b.pub_port = protocol::parse_tcp_endpoint(self_pub_)->port;
    b.router_port = protocol::parse_tcp_endpoint(self_router_)->port;
    if (!opts_.mesh_secret.empty()) {
        // Signed anew each time: the timestamp is what makes a replay detectable.
        const auto secret = std::span(reinterpret_cast<const std::uint8_t*>(opts_.mesh_secret.data()),
                                      opts_.mesh_secret.size());
        beacon_bytes_ = protocol::encode_signed_beacon(b, unix_now_us(), secret);
    } else if (beacon_bytes_.empty()) {
        beacon_bytes_ = protocol::encode_beacon(b);
    }
    const int failures = beacon_->send(beacon_bytes_);
    ++stats_.beacons_sent;
    if (failures > 0) {
        if (stats_.beacon_send_errors == 0)
            log(log_level::warn, "beacon send failed on " + std::to_string(failures) +
                                     " interface(s): " + std::strerror(errno));
        stats_.beacon_send_errors += static_cast<std::uint64_t>(failures);
    }
}

void reactor::on_beacon(clock::time_point now) {
    for (int i = 0; i < max_batch; ++i) {
        auto d = beacon_->receive(protocol::max_beacon_size);
        if (!d) return;
        auto b = protocol::decode_beacon(d->bytes);
        if (!b) {
            ++stats_.beacons_invalid;
            log(log_level::debug, "dropped beacon from " + d->source_ip + ": " +
                                      std::string(protocol::to_string(b.error())));
            continue;
        }
        if (b->id == id_) continue;
        if (b->mesh != opts_.mesh) {
            ++stats_.beacons_foreign_mesh;
            continue;
        }
        if (!security_.beacon_authentic(*b, d->bytes, unix_now_us(), now)) continue;
        ++stats_.beacons_received;
        if (auto* p = table_.find(b->id)) {
            apply(table_.on_traffic(*p, now));
            continue;
        }
        const std::string host = b->host.empty() ? d->source_ip : b->host;
        dial(b->id, b->name, "tcp://" + host + ":" + std::to_string(b->pub_port),
             "tcp://" + host + ":" + std::to_string(b->router_port), now, true);
    }
}

}  // namespace zmesh::detail
