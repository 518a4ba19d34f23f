// SPDX-License-Identifier: MPL-2.0
// security, without sockets: ZAP requests read strictly; a plain node's security admits
// everything and secures nothing; a mesh secret alone makes beacons be checked.
#include "node/security/security.hpp"

#include <zmesh/keys.hpp>

#include <gtest/gtest.h>

namespace zmesh::detail {
namespace {

std::vector<std::string> zap_frames(const std::string& mechanism, const std::string& credential) {
    return {"1.0", "req-7", "zmesh", "10.0.0.5", "", mechanism, credential};
}

TEST(zap_request, curve_request_carries_the_clients_key) {
    const auto key = *decode_key(generate_keypair().public_key);
    const auto r = read_zap_request(zap_frames("CURVE", std::string(key.begin(), key.end())));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->request_id, "req-7");
    EXPECT_EQ(r->address, "10.0.0.5");
    ASSERT_TRUE(r->key);
    EXPECT_EQ(*r->key, key);
}

TEST(zap_request, other_mechanisms_and_bad_requests_carry_no_key) {
    auto null = read_zap_request({"1.0", "1", "zmesh", "h", "", "NULL"});
    ASSERT_TRUE(null);
    EXPECT_FALSE(null->key);
    EXPECT_FALSE(read_zap_request(zap_frames("CURVE", "short"))->key);
    EXPECT_FALSE(read_zap_request({"2.0", "1", "zmesh", "h", "", "CURVE", std::string(32, 'k')}));
    EXPECT_FALSE(read_zap_request({"1.0", "1", "zmesh"}));
}

class plain_security : public ::testing::Test {
protected:
    options opts_;
    node_stats stats_;
    protocol::node_id id_ = protocol::node_id::random();
    node_context ctx_{opts_, id_, stats_};
    zmq::context_t net_;
};

TEST_F(plain_security, admits_every_sender_and_dials_every_peer) {
    security s(ctx_, net_);
    EXPECT_FALSE(s.secured());
    const auto id = protocol::node_id::random();
    EXPECT_TRUE(s.may_dial(id));
    EXPECT_TRUE(s.allows(id));
    zmq::message_t frame(std::string_view("x"));
    std::optional<curve_key> key;
    EXPECT_TRUE(s.admits(id, frame, key));
    EXPECT_FALSE(key);
    EXPECT_FALSE(s.reload(security::clock::now()));
    EXPECT_EQ(stats_.peers_not_allowed + stats_.frames_key_mismatch, 0u);
}

TEST_F(plain_security, beacons_are_believed_without_a_mesh_secret_and_checked_with_one) {
    protocol::beacon b;
    b.mesh = "m";
    b.id = protocol::node_id::random();
    b.name = "n";
    b.pub_port = b.router_port = 1;
    const auto plain = protocol::encode_beacon(b);
    const std::uint64_t wall = 1'800'000'000'000'000;
    {
        security s(ctx_, net_);
        EXPECT_TRUE(s.beacon_authentic(b, plain, wall, security::clock::now()));
    }
    opts_.mesh_secret = "sixteen bytes or more";
    security s(ctx_, net_);
    EXPECT_FALSE(s.beacon_authentic(b, plain, wall, security::clock::now()));
    EXPECT_EQ(stats_.beacons_unauthenticated, 1u);
    const auto secret = std::span(reinterpret_cast<const std::uint8_t*>(opts_.mesh_secret.data()),
                                  opts_.mesh_secret.size());
    const auto signed_bytes = protocol::encode_signed_beacon(b, wall, secret);
    const auto signed_b = *protocol::decode_beacon(signed_bytes);
    EXPECT_TRUE(s.beacon_authentic(signed_b, signed_bytes, wall, security::clock::now()));
    EXPECT_FALSE(s.beacon_authentic(signed_b, signed_bytes, wall + 1, security::clock::now() + std::chrono::seconds(2)))
        << "a late copy";
    EXPECT_EQ(stats_.beacons_replayed, 1u);
}

}  // namespace
}  // namespace zmesh::detail
