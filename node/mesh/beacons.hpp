// SPDX-License-Identifier: MPL-2.0
// beacons: the UDP beacon socket, the host this node tells others to dial, what it announces,
// and which beacons it believes (well formed, not its own, of its mesh, signed and fresh when
// the mesh is secured) before the mesh dials anyone.
#pragma once

#include "node/context.hpp"
#include "node/security/security.hpp"
#include "discovery/beacon_socket.hpp"
#include "discovery/interfaces.hpp"
#include "protocol/beacon.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zmesh::detail {

class beacons {
public:
    using clock = std::chrono::steady_clock;

    // Chooses the interfaces and the advertised host, and opens the beacon socket unless
    // beacons are off. Throws std::runtime_error with a one-line message on failure.
    beacons(node_context& ctx, security& sec);

    // The host peers dial us at: what the user said, what we are bound to, else the LAN
    // address we beacon on, else loopback.
    const std::string& hello_host() const noexcept { return hello_host_; }
    // Returns: the beacon socket's descriptor, or -1 when beacons are off.
    int fd() const;
    // The ports announced (as bound).
    void set_ports(std::uint16_t pub_port, std::uint16_t router_port) {
        pub_port_ = pub_port;
        router_port_ = router_port;
    }

    // Announces this node, or with `asking` asks the members that hear it to announce
    // themselves soon (PROTOCOL.md §5.2 rule 4). An observer only asks: a watcher is not a
    // member to find.
    void send(bool asking);
    // Reads the datagrams waiting, a batch at most, and hands each believable beacon with
    // the host to dial it at; the rest are counted.
    void on_readable(clock::time_point now,
                     const std::function<void(const protocol::beacon&, const std::string& host)>& heard);

private:
    // Logs one line at warn when a plain member beacons beyond loopback.
    void warn_if_open_to_the_lan(const std::vector<discovery::interface_info>& chosen) const;

    node_context& ctx_;
    security& security_;
    std::string hello_host_;
    std::string beacon_host_;   // "": receivers dial the datagram's source
    std::uint16_t pub_port_ = 0, router_port_ = 0;
    std::unique_ptr<discovery::beacon_socket> socket_;
    std::vector<std::uint8_t> bytes_;   // the last beacon sent
    bool bytes_asking_ = false;         // and whether it asked
};

}  // namespace zmesh::detail
