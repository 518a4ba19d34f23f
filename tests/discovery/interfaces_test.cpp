// SPDX-License-Identifier: MPL-2.0
// interfaces tests: which beacon interfaces are chosen from synthetic candidate lists.
#include "discovery/interfaces.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace zmesh::discovery;

namespace {

interface_info lo() { return {"lo", "127.0.0.1", true, true, false, false, false}; }
interface_info nic(std::string name, std::string ip, bool default_route = false) {
    return {std::move(name), std::move(ip), false, true, true, false, default_route};
}
interface_info virt(std::string name, std::string ip) {
    auto i = nic(std::move(name), std::move(ip));
    i.is_virtual = true;
    return i;
}

std::vector<std::string> names(const std::variant<interface_choice, std::string>& r) {
    std::vector<std::string> out;
    if (const auto* c = std::get_if<interface_choice>(&r))
        for (const auto& i : c->chosen) out.push_back(i.name + "=" + i.ip);
    return out;
}

const std::string& error_of(const std::variant<interface_choice, std::string>& r) {
    static const std::string none = "<no error>";
    const auto* e = std::get_if<std::string>(&r);
    return e ? *e : none;
}

using list = std::vector<std::string>;

}  // namespace

TEST(looks_virtual, flags_container_vm_and_tunnel_names) {
    for (const char* n : {"docker0", "veth1a2b3c", "br-0f1e2d", "virbr0", "vboxnet0", "vmnet8",
                          "tun0", "tap3", "cni0", "flannel.1", "cali123", "weave", "kube-ipvs0",
                          "lxcbr0", "lxdbr0", "podman0"})
        EXPECT_TRUE(looks_virtual(n)) << n;
}

TEST(looks_virtual, passes_physical_and_loopback_names) {
    for (const char* n : {"eth0", "enp3s0", "eno1", "wlan0", "wlp2s0", "lo", "br0", "bond0", ""})
        EXPECT_FALSE(looks_virtual(n)) << n;
}

TEST(choose_interfaces, auto_picks_loopback_and_default_route_nic) {
    const std::vector<interface_info> c = {lo(), virt("docker0", "172.17.0.1"),
                                           nic("eth0", "192.0.2.2", true),
                                           virt("veth9", "169.254.1.1"),
                                           virt("br-abc", "172.18.0.1")};
    EXPECT_EQ(names(choose_interfaces(c, "auto")), (list{"lo=127.0.0.1", "eth0=192.0.2.2"}));
    EXPECT_EQ(names(choose_interfaces(c, "")), (list{"lo=127.0.0.1", "eth0=192.0.2.2"}));
}

TEST(choose_interfaces, auto_skips_virtual_even_on_default_route) {
    auto docker = virt("docker0", "172.17.0.1");
    docker.default_route = true;
    const std::vector<interface_info> c = {lo(), docker, nic("eth0", "192.0.2.2")};
    EXPECT_EQ(names(choose_interfaces(c, "auto")), (list{"lo=127.0.0.1", "eth0=192.0.2.2"}));
}

TEST(choose_interfaces, auto_skips_down_and_non_multicast_nics) {
    auto down = nic("eth0", "192.0.2.2", true);
    down.up = false;
    auto no_mcast = nic("eth1", "198.51.100.2", true);
    no_mcast.multicast = false;
    const std::vector<interface_info> c = {lo(), down, no_mcast, nic("eth2", "203.0.113.2")};
    EXPECT_EQ(names(choose_interfaces(c, "auto")), (list{"lo=127.0.0.1", "eth2=203.0.113.2"}));
}

TEST(choose_interfaces, auto_prefers_default_route_among_several_nics) {
    const std::vector<interface_info> c = {nic("eth0", "10.0.0.2"), nic("wlan0", "10.1.0.2"),
                                           nic("eth1", "192.0.2.2", true), lo(),
                                           nic("eth2", "10.2.0.2")};
    EXPECT_EQ(names(choose_interfaces(c, "auto")), (list{"lo=127.0.0.1", "eth1=192.0.2.2"}));
}

TEST(choose_interfaces, auto_without_default_route_takes_first_usable_nic) {
    const std::vector<interface_info> c = {lo(), nic("eth0", "10.0.0.2"), nic("eth1", "10.1.0.2")};
    EXPECT_EQ(names(choose_interfaces(c, "auto")), (list{"lo=127.0.0.1", "eth0=10.0.0.2"}));
}

TEST(choose_interfaces, auto_takes_one_loopback_address_and_only_when_up) {
    auto alias = lo();
    alias.ip = "127.0.0.2";
    std::vector<interface_info> c = {lo(), alias};
    EXPECT_EQ(names(choose_interfaces(c, "auto")), (list{"lo=127.0.0.1"}));

    auto down = lo();
    down.up = false;
    c = {down, nic("eth0", "192.0.2.2")};
    EXPECT_EQ(names(choose_interfaces(c, "auto")), (list{"eth0=192.0.2.2"}));
}

TEST(choose_interfaces, auto_with_loopback_only_says_same_host_only) {
    const auto r = choose_interfaces({lo(), virt("docker0", "172.17.0.1")}, "auto");
    ASSERT_EQ(names(r), (list{"lo=127.0.0.1"}));
    EXPECT_NE(std::get<interface_choice>(r).why.find("same-host"), std::string::npos);
}

TEST(choose_interfaces, why_lists_candidates_and_choice) {
    const auto r = choose_interfaces({lo(), nic("eth0", "192.0.2.2", true)}, "auto");
    ASSERT_TRUE(std::holds_alternative<interface_choice>(r));
    const auto& why = std::get<interface_choice>(r).why;
    EXPECT_NE(why.find("eth0=192.0.2.2"), std::string::npos) << why;
    EXPECT_NE(why.find("default route"), std::string::npos) << why;
    EXPECT_NE(why.find("chosen (auto): lo, eth0"), std::string::npos) << why;
}

TEST(choose_interfaces, explicit_name_picks_exactly_that_one_even_if_virtual) {
    const std::vector<interface_info> c = {lo(), nic("eth0", "192.0.2.2", true),
                                           virt("docker0", "172.17.0.1")};
    EXPECT_EQ(names(choose_interfaces(c, "docker0")), (list{"docker0=172.17.0.1"}));
    EXPECT_EQ(names(choose_interfaces(c, "eth0")), (list{"eth0=192.0.2.2"}));
    EXPECT_EQ(names(choose_interfaces(c, "lo")), (list{"lo=127.0.0.1"}));
}

TEST(choose_interfaces, explicit_ip_picks_exactly_that_one) {
    const std::vector<interface_info> c = {lo(), nic("eth0", "192.0.2.2", true),
                                           virt("br-1", "172.18.0.1")};
    EXPECT_EQ(names(choose_interfaces(c, "172.18.0.1")), (list{"br-1=172.18.0.1"}));
    EXPECT_EQ(names(choose_interfaces(c, "127.0.0.1")), (list{"lo=127.0.0.1"}));
}

TEST(choose_interfaces, explicit_name_with_several_addresses_takes_the_first) {
    const std::vector<interface_info> c = {nic("eth0", "10.0.0.2"), nic("eth0", "10.0.0.3")};
    EXPECT_EQ(names(choose_interfaces(c, "eth0")), (list{"eth0=10.0.0.2"}));
}

TEST(choose_interfaces, unknown_name_is_an_error_listing_candidates) {
    const std::vector<interface_info> c = {lo(), nic("eth0", "192.0.2.2", true)};
    const auto r = choose_interfaces(c, "wlan7");
    ASSERT_TRUE(std::holds_alternative<std::string>(r));
    const auto& e = error_of(r);
    EXPECT_NE(e.find("'wlan7'"), std::string::npos) << e;
    EXPECT_NE(e.find("lo=127.0.0.1"), std::string::npos) << e;
    EXPECT_NE(e.find("eth0=192.0.2.2"), std::string::npos) << e;
    EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 0) << "one line";
}

TEST(choose_interfaces, partial_name_or_ip_does_not_match) {
    const std::vector<interface_info> c = {nic("eth0", "192.0.2.2")};
    EXPECT_TRUE(std::holds_alternative<std::string>(choose_interfaces(c, "eth")));
    EXPECT_TRUE(std::holds_alternative<std::string>(choose_interfaces(c, "192.0.2")));
}

TEST(choose_interfaces, empty_list_is_an_error) {
    const auto a = choose_interfaces({}, "auto");
    ASSERT_TRUE(std::holds_alternative<std::string>(a));
    EXPECT_NE(error_of(a).find("none"), std::string::npos) << error_of(a);
    EXPECT_TRUE(std::holds_alternative<std::string>(choose_interfaces({}, "eth0")));
}

TEST(choose_interfaces, nothing_usable_is_an_error) {
    auto down = nic("eth0", "192.0.2.2", true);
    down.up = false;
    const auto r = choose_interfaces({down, virt("docker0", "172.17.0.1")}, "auto");
    ASSERT_TRUE(std::holds_alternative<std::string>(r));
    EXPECT_NE(error_of(r).find("[down]"), std::string::npos) << error_of(r);
    EXPECT_NE(error_of(r).find("[virtual]"), std::string::npos) << error_of(r);
}

TEST(list_ipv4_interfaces, includes_loopback) {
    // Reads the host's list only; nothing is sent anywhere.
    const auto all = list_ipv4_interfaces();
    const auto it = std::find_if(all.begin(), all.end(),
                                 [](const interface_info& i) { return i.ip == "127.0.0.1"; });
    ASSERT_NE(it, all.end());
    EXPECT_TRUE(it->loopback);
    EXPECT_TRUE(it->up);
    EXPECT_FALSE(it->is_virtual);
    for (const auto& i : all) EXPECT_EQ(i.is_virtual, looks_virtual(i.name)) << i.name;
}
