// SPDX-License-Identifier: MPL-2.0
// handshake_failure: each libzmq handshake event and value is told as its real cause; only
// an AUTH refusal of a secured node speaks of keys; routine causes are logged below warn.
#include "node/handshake_failure.hpp"

#include <gtest/gtest.h>

#include <zmq.h>

#include <cerrno>

namespace zmesh::detail {
namespace {

handshake_failure described(std::uint16_t kind, std::uint32_t value, bool secured) {
    const auto f = describe_handshake_failure(kind, value, secured);
    EXPECT_TRUE(f) << kind;
    return f.value_or(handshake_failure{});
}

bool says(const handshake_failure& f, std::string_view words) {
    return f.text.find(words) != std::string::npos;
}

constexpr std::uint16_t no_detail = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
constexpr std::uint16_t protocol = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
constexpr std::uint16_t auth = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

TEST(handshake_failure, connection_closed_mid_handshake_in_a_plain_mesh_is_debug_with_its_errno) {
    const auto f = described(no_detail, EPIPE, false);
    EXPECT_EQ(f.cause, handshake_cause::closed);
    EXPECT_EQ(f.level, log_level::debug);
    EXPECT_TRUE(says(f, "closed")) << f.text;
    EXPECT_TRUE(says(f, "errno " + std::to_string(EPIPE))) << f.text;
    EXPECT_FALSE(says(f, "key")) << f.text;
    const auto reset = described(no_detail, ECONNRESET, false);
    EXPECT_EQ(reset.cause, handshake_cause::closed);
    EXPECT_TRUE(says(reset, "reset")) << reset.text;
    EXPECT_EQ(described(no_detail, EHOSTUNREACH, false).cause, handshake_cause::closed);
}

TEST(handshake_failure, no_detail_without_a_read_error_is_a_timeout_logged_at_info) {
    // libzmq's handshake timer leaves errno as it was: EAGAIN, 0, or anything not a read's.
    for (std::uint32_t err : {EAGAIN, 0, EINPROGRESS}) {
        const auto f = described(no_detail, err, false);
        EXPECT_EQ(f.cause, handshake_cause::timeout) << err;
        EXPECT_EQ(f.level, log_level::info) << err;
        EXPECT_TRUE(says(f, "timed out")) << f.text;
        EXPECT_TRUE(says(f, "errno " + std::to_string(err))) << f.text;
        EXPECT_FALSE(says(f, "key")) << f.text;
        EXPECT_EQ(described(no_detail, err, true).level, log_level::info) << err;
    }
}

TEST(handshake_failure, closed_connection_of_a_secured_node_is_info_and_never_key_not_allowed) {
    const auto f = described(no_detail, EPIPE, true);
    EXPECT_EQ(f.cause, handshake_cause::closed);
    EXPECT_EQ(f.level, log_level::info);
    EXPECT_FALSE(says(f, "not allowed")) << f.text;
}

TEST(handshake_failure, mechanism_mismatch_says_which_side_is_secured) {
    const auto plain = described(protocol, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH, false);
    EXPECT_EQ(plain.cause, handshake_cause::protocol);
    EXPECT_EQ(plain.level, log_level::warn);
    EXPECT_TRUE(says(plain, "the peer is secured and this node is not")) << plain.text;
    EXPECT_TRUE(says(plain, "0x11000002")) << plain.text;
    EXPECT_FALSE(says(plain, "key")) << plain.text;
    const auto secured = described(protocol, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH, true);
    EXPECT_TRUE(says(secured, "the peer is not secured")) << secured.text;
}

TEST(handshake_failure, protocol_error_is_named_with_its_code_and_never_key_not_allowed) {
    const auto f = described(protocol, ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, true);
    EXPECT_EQ(f.cause, handshake_cause::protocol);
    EXPECT_EQ(f.level, log_level::warn);
    EXPECT_EQ(f.code, static_cast<std::uint32_t>(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC));
    EXPECT_TRUE(says(f, "ZMTP protocol error 0x11000001: cryptographic")) << f.text;
    EXPECT_FALSE(says(f, "not allowed")) << f.text;
    const auto unknown = described(protocol, 0x12345678, false);
    EXPECT_TRUE(says(unknown, "0x12345678")) << unknown.text;
    EXPECT_TRUE(says(described(protocol, ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO, false),
                     "malformed HELLO"));
}

TEST(handshake_failure, only_an_auth_400_of_a_secured_node_is_key_not_allowed) {
    const auto denied = described(auth, 400, true);
    EXPECT_EQ(denied.cause, handshake_cause::auth);
    EXPECT_EQ(denied.level, log_level::warn);
    EXPECT_TRUE(says(denied, "key not allowed")) << denied.text;
    EXPECT_TRUE(says(denied, "400")) << denied.text;
    for (std::uint32_t status : {300u, 500u}) {
        const auto f = described(auth, status, true);
        EXPECT_EQ(f.cause, handshake_cause::auth);
        EXPECT_FALSE(says(f, "key")) << f.text;
        EXPECT_TRUE(says(f, std::to_string(status))) << f.text;
    }
    EXPECT_EQ(described(auth, 300, true).level, log_level::info) << "300 is temporary";
    // A plain node has no key: a peer's ZAP handler refused it for other reasons.
    const auto plain = described(auth, 400, false);
    EXPECT_FALSE(says(plain, "key")) << plain.text;
}

TEST(handshake_failure, other_events_are_not_failures) {
    for (std::uint16_t kind : {ZMQ_EVENT_CONNECTED, ZMQ_EVENT_DISCONNECTED, ZMQ_EVENT_HANDSHAKE_SUCCEEDED,
                               ZMQ_EVENT_CONNECT_RETRIED})
        EXPECT_FALSE(describe_handshake_failure(kind, 0, false)) << kind;
}

}  // namespace
}  // namespace zmesh::detail
