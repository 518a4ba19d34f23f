// SPDX-License-Identifier: MPL-2.0
// interfaces: enumerate with getifaddrs and pick the beacon interfaces.
#include "interfaces.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

namespace zmesh::discovery {

namespace {

std::string default_route_interface() {
    // /proc/net/route: "Iface Destination Gateway ..." with destination 00000000 for default.
    std::ifstream in("/proc/net/route");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string iface, destination;
        if (fields >> iface >> destination && destination == "00000000") return iface;
    }
    return {};
}

std::string describe(const interface_info& i) {
    std::string s = i.name + "=" + i.ip;
    if (i.loopback) s += " [loopback]";
    if (i.is_virtual) s += " [virtual]";
    if (!i.up) s += " [down]";
    if (!i.loopback && !i.multicast) s += " [no multicast]";
    if (i.default_route) s += " [default route]";
    return s;
}

}  // namespace

bool looks_virtual(const std::string& name) {
    static constexpr std::array<const char*, 16> prefixes = {
        "docker", "br-", "veth", "virbr", "vboxnet", "vmnet", "tun", "tap",
        "cni", "flannel", "cali", "weave", "kube", "lxcbr", "lxdbr", "podman"};
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](const char* p) { return name.rfind(p, 0) == 0; });
}

std::vector<interface_info> list_ipv4_interfaces() {
    std::vector<interface_info> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    const std::string route_iface = default_route_interface();
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        char buf[INET_ADDRSTRLEN] = {};
        const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
        inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
        interface_info i;
        i.name = a->ifa_name;
        i.ip = buf;
        i.loopback = (a->ifa_flags & IFF_LOOPBACK) != 0;
        i.up = (a->ifa_flags & IFF_UP) && (a->ifa_flags & IFF_RUNNING);
        i.multicast = (a->ifa_flags & IFF_MULTICAST) != 0;
        i.is_virtual = looks_virtual(i.name);
        i.default_route = !route_iface.empty() && i.name == route_iface;
        out.push_back(std::move(i));
    }
    freeifaddrs(list);
    return out;
}

std::variant<interface_choice, std::string> choose_interfaces(
    const std::vector<interface_info>& candidates, const std::string& wanted) {
    std::string seen;
    for (const auto& c : candidates) seen += (seen.empty() ? "" : ", ") + describe(c);
    if (seen.empty()) seen = "none";

    interface_choice choice;
    if (!wanted.empty() && wanted != "auto") {
        for (const auto& c : candidates)
            if (c.name == wanted || c.ip == wanted) choice.chosen.push_back(c);
        if (choice.chosen.empty())
            return "no IPv4 interface named or addressed '" + wanted + "' (have: " + seen + ")";
        choice.chosen.resize(1);   // an interface with several addresses: the first one
        choice.why = "candidates: " + seen + "; chosen by --interface: " + choice.chosen[0].name;
        return choice;
    }

    const interface_info* lan = nullptr;
    for (const auto& c : candidates) {
        if (c.loopback) {
            if (c.up && std::none_of(choice.chosen.begin(), choice.chosen.end(),
                                     [](const auto& x) { return x.loopback; }))
                choice.chosen.push_back(c);
            continue;
        }
        if (!c.up || !c.multicast || c.is_virtual) continue;
        if (!lan || (c.default_route && !lan->default_route)) lan = &c;
    }
    if (lan) choice.chosen.push_back(*lan);
    if (choice.chosen.empty()) return "no usable IPv4 interface (have: " + seen + ")";
    std::string names;
    for (const auto& c : choice.chosen) names += (names.empty() ? "" : ", ") + c.name;
    choice.why = "candidates: " + seen + "; chosen (auto): " + names +
                 (lan ? "" : " (no LAN interface: same-host discovery only)");
    return choice;
}

}  // namespace zmesh::discovery
