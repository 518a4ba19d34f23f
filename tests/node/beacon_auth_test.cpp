// SPDX-License-Identifier: MPL-2.0
// beacon authentication: a secured node is found only through beacons signed with the mesh
// secret; unsigned, forged and replayed beacons are dropped and counted, never dialled —
// even when they claim the id of an allowed key.
#include "node_fixture.hpp"

#include "discovery/beacon_socket.hpp"
#include "node/key_ids.hpp"
#include "protocol/beacon.hpp"

#include <zmesh/keys.hpp>

#include <chrono>

namespace zmesh::test {
namespace {

using names = std::vector<std::string>;

const std::string mesh_secret = "the members' shared secret";

std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::uint64_t now_us() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

class beacon_auth : public node_fixture {
protected:
    // Every key is allowed: only the beacon check stands between a node and being dialled.
    keypair alpha_ = generate_keypair(), beta_ = generate_keypair(), gamma_ = generate_keypair(),
            other_ = generate_keypair();

    options secured(const std::string& name, const keypair& own, const std::string& secret = mesh_secret) {
        auto o = make_options(name);
        o.secret_key = own.secret_key;
        o.allowed_keys = {alpha_.public_key, beta_.public_key, gamma_.public_key, other_.public_key};
        o.mesh_secret = secret;
        return o;
    }
    // A beacon in the name of `owner` (not running): a peer named "ghost" appears if it is taken.
    protocol::beacon ghost(const keypair& owner) const {
        protocol::beacon b;
        b.mesh = mesh_;
        b.id = new_id_for_key(*decode_key(owner.public_key));
        b.name = "ghost";
        b.host = "127.0.0.1";
        b.pub_port = free_port();
        b.router_port = free_port();
        return b;
    }
    static bool knows(const node& n, const std::string& name) {
        for (const auto& p : n.peers())
            if (p.name == name) return true;
        return false;
    }
    discovery::beacon_socket sender_{beacon_port_, {{"lo", "127.0.0.1", true, true, true}}};
};

TEST_F(beacon_auth, members_with_the_secret_meet_and_others_are_not_dialled) {
    auto& a = start(secured("a", alpha_));
    auto& b = start(secured("b", beta_));
    start(make_options("plain"));
    // An allowed key, but another mesh secret: neither side takes the other's beacons.
    auto& other = start(secured("other", other_, "a different secret, same length"));
    ASSERT_TRUE(wait_until([&] { return joined_names(a) == names{"b"} && joined_names(b) == names{"a"}; }, 10s));
    EXPECT_TRUE(wait_until([&] { return a.stats().beacons_unauthenticated >= 2; }, 5s));
    EXPECT_TRUE(wait_until([&] { return other.stats().beacons_unauthenticated >= 2; }, 5s));
    EXPECT_FALSE(knows(a, "other"));
    EXPECT_FALSE(knows(a, "plain"));
    EXPECT_FALSE(knows(other, "a"));
}

TEST_F(beacon_auth, forged_and_unsigned_beacons_are_counted_and_ignored) {
    auto& a = start(secured("a", alpha_));
    const auto g = ghost(beta_);
    auto forged = protocol::encode_signed_beacon(g, now_us(), as_bytes(std::string("a guessed secret!!")));
    auto unsigned_one = protocol::encode_beacon(g);
    auto tampered = protocol::encode_signed_beacon(g, now_us(), as_bytes(mesh_secret));
    tampered[tampered.size() - 40] ^= 0x01;   // a byte of the timestamp, under the MAC
    for (auto* d : {&forged, &unsigned_one, &tampered}) sender_.send(*d);
    EXPECT_TRUE(wait_until([&] { return a.stats().beacons_unauthenticated == 3; }, 5s))
        << a.stats().beacons_unauthenticated;
    EXPECT_EQ(a.stats().beacons_received, 0u);
    EXPECT_FALSE(knows(a, "ghost"));
    // A beacon signed with the secret is taken: the test above can fail.
    sender_.send(protocol::encode_signed_beacon(g, now_us(), as_bytes(mesh_secret)));
    EXPECT_TRUE(wait_until([&] { return knows(a, "ghost"); }, 5s));
}

TEST_F(beacon_auth, replayed_beacons_are_counted_and_ignored) {
    auto& a = start(secured("a", alpha_));
    const auto g = ghost(beta_);
    const auto t = now_us();
    const auto first = protocol::encode_signed_beacon(g, t, as_bytes(mesh_secret));
    sender_.send(first);
    ASSERT_TRUE(wait_until([&] { return a.stats().beacons_received == 1; }, 5s));
    // An older beacon of the same node, captured earlier and sent now.
    sender_.send(protocol::encode_signed_beacon(g, t - 1000, as_bytes(mesh_secret)));
    EXPECT_TRUE(wait_until([&] { return a.stats().beacons_replayed == 1; }, 5s));
    // Beacons from far in the past and the future, for a node never seen.
    auto stale = ghost(gamma_);
    stale.name = "stale";
    sender_.send(protocol::encode_signed_beacon(stale, t - 120'000'000, as_bytes(mesh_secret)));
    sender_.send(protocol::encode_signed_beacon(stale, t + 120'000'000, as_bytes(mesh_secret)));
    EXPECT_TRUE(wait_until([&] { return a.stats().beacons_replayed == 3; }, 5s));
    // The newest beacon again, once its copies could no longer be on their way.
    EXPECT_TRUE(wait_until([&] {
        sender_.send(first);
        return a.stats().beacons_replayed >= 4;
    }, 10s)) << "a late copy of the newest beacon was taken";
    EXPECT_FALSE(knows(a, "stale"));
}

}  // namespace
}  // namespace zmesh::test
