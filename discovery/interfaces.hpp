// SPDX-License-Identifier: MPL-2.0
// interfaces: which IPv4 interfaces this host has, and which of them beacons go out on.
#pragma once

#include <string>
#include <variant>
#include <vector>

namespace zmesh::discovery {

struct interface_info {
    std::string name;   // "eth0"
    std::string ip;     // "192.0.2.2"
    bool loopback = false;
    bool up = false;         // IFF_UP and IFF_RUNNING
    bool multicast = false;  // IFF_MULTICAST (loopback carries multicast without it)
    bool is_virtual = false; // docker0, veth*, br-*, virbr*, ...: never chosen unless asked for
    bool default_route = false;
};

// Returns: every IPv4 address of every interface (getifaddrs), default route marked from
// /proc/net/route. Empty on failure.
std::vector<interface_info> list_ipv4_interfaces();

// Returns: true for names of container, VM and tunnel interfaces that a beacon should not
// pick silently.
bool looks_virtual(const std::string& name);

struct interface_choice {
    std::vector<interface_info> chosen;
    std::string why;   // one line for the log: what was seen and what was chosen
};

// Chooses the interfaces to beacon on.
//   wanted "" or "auto": loopback (same-host peers always find each other) plus the one LAN
//     interface that is up, multicast-capable and not virtual, preferring the default route.
//   wanted NAME or IP: exactly that interface (virtual ones too: the user asked).
// Returns: the choice, or a one-line error when `wanted` matches nothing.
std::variant<interface_choice, std::string> choose_interfaces(
    const std::vector<interface_info>& candidates, const std::string& wanted);

}  // namespace zmesh::discovery
