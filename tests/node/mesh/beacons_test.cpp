// SPDX-License-Identifier: MPL-2.0
// beacons: a plain member that beacons beyond loopback says at start, once, that its mesh is
// open to the LAN and how to close it; on loopback, or secured, or as an observer it does not.
#include "node/node_fixture.hpp"

#include "discovery/interfaces.hpp"

#include <zmesh/keys.hpp>

namespace zmesh::test {
namespace {

constexpr std::string_view open_warning = "is open to the LAN";

class beacons : public node_fixture {
protected:
    // Returns: the options of a node logging into `captured`, on `interface`.
    options logged(const std::string& name, const std::string& interface, log_capture& captured) const {
        auto o = logged_options(name, captured);
        o.interface = interface;
        return o;
    }
    // Returns: whether the default choice ("auto") takes a LAN interface on this machine.
    static bool auto_takes_a_lan_interface() {
        const auto choice = discovery::choose_interfaces(discovery::list_ipv4_interfaces(), "");
        const auto* chosen = std::get_if<discovery::interface_choice>(&choice);
        return chosen && std::any_of(chosen->chosen.begin(), chosen->chosen.end(), [](const auto& i) { return !i.loopback; });
    }
};

TEST_F(beacons, a_plain_member_beaconing_on_the_lan_warns_once_that_the_mesh_is_open) {
    if (!auto_takes_a_lan_interface()) GTEST_SKIP() << "no LAN interface here";
    log_capture captured;
    node n(logged("open", "", captured));
    n.start();
    const auto lines = captured.find(log_level::warn, open_warning);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("mesh '" + mesh_ + "'"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("--interface lo"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("options::secret_key"), std::string::npos) << lines[0];
    n.stop();
}

TEST_F(beacons, on_loopback_or_as_an_observer_or_secured_nothing_is_said) {
    log_capture on_loopback, observing, secured;
    node local(logged("local", "lo", on_loopback));
    local.start();
    auto o = logged("watcher", "", observing);
    o.observer = true;
    node watcher(o);
    watcher.start();
    const auto pair = generate_keypair();
    o = logged("secured", "", secured);
    o.secret_key = pair.secret_key;
    o.allowed_keys = {generate_keypair().public_key};
    o.mesh_secret = "secret shared by every member";
    node closed(o);
    closed.start();
    EXPECT_TRUE(on_loopback.find(log_level::warn, open_warning).empty());
    EXPECT_TRUE(observing.find(log_level::warn, open_warning).empty());
    EXPECT_TRUE(secured.find(log_level::warn, open_warning).empty());
    for (auto* n : {&local, &watcher, &closed}) n->stop();
}

}  // namespace
}  // namespace zmesh::test
