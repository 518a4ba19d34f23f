// SPDX-License-Identifier: MPL-2.0
// signed beacon tests: the MAC covers every byte, needs the right secret, and a signed
// datagram decodes like an unsigned one plus its timestamp.
#include "protocol/beacon.hpp"
#include "sample_beacon.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace zmesh::protocol;

namespace {

using bytes = std::vector<std::uint8_t>;

beacon sample() { return zmesh::test::sample_beacon(); }

std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

const std::string secret = "correct horse battery staple";
const std::uint64_t when = 1'790'000'000'000'000;   // µs since the epoch

TEST(signed_beacon, round_trips_with_its_timestamp_and_a_good_mac) {
    const auto b = sample();
    const auto d = encode_signed_beacon(b, when, as_bytes(secret));
    EXPECT_EQ(d[5], beacon_flag_signed);
    auto r = decode_beacon(d);
    ASSERT_TRUE(r) << static_cast<int>(r.error());
    EXPECT_TRUE(r->is_signed);
    EXPECT_EQ(r->sent_us, when);
    auto expected = b;
    expected.is_signed = true;
    expected.sent_us = when;
    EXPECT_EQ(*r, expected);
    EXPECT_TRUE(beacon_mac_ok(d, as_bytes(secret)));
}

TEST(signed_beacon, an_asking_one_is_signed_with_its_flag_under_the_mac) {
    auto b = sample();
    b.asking = true;
    auto d = encode_signed_beacon(b, when, as_bytes(secret));
    EXPECT_EQ(d[5], beacon_flag_signed | beacon_flag_asking);
    auto r = decode_beacon(d);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->asking);
    EXPECT_TRUE(beacon_mac_ok(d, as_bytes(secret)));
    d[5] = beacon_flag_signed;   // a forger turns the question into a beacon to dial
    EXPECT_FALSE(beacon_mac_ok(d, as_bytes(secret)));
}

TEST(signed_beacon, mac_changes_with_time_so_each_beacon_is_new) {
    const auto b = sample();
    EXPECT_NE(encode_signed_beacon(b, when, as_bytes(secret)),
              encode_signed_beacon(b, when + 1, as_bytes(secret)));
}

TEST(signed_beacon, any_changed_byte_breaks_the_mac) {
    const auto d = encode_signed_beacon(sample(), when, as_bytes(secret));
    for (std::size_t i = 0; i < d.size(); ++i) {
        auto tampered = d;
        tampered[i] ^= 0x01;
        EXPECT_FALSE(beacon_mac_ok(tampered, as_bytes(secret))) << "byte " << i;
    }
}

TEST(signed_beacon, wrong_or_short_secret_fails) {
    const auto d = encode_signed_beacon(sample(), when, as_bytes(secret));
    EXPECT_FALSE(beacon_mac_ok(d, as_bytes(std::string("correct horse battery stapLe"))));
    EXPECT_FALSE(beacon_mac_ok(d, as_bytes(secret.substr(0, min_mesh_secret_size - 1))));
    EXPECT_THROW(encode_signed_beacon(sample(), when, as_bytes(std::string("short"))),
                 std::invalid_argument);
}

TEST(signed_beacon, unsigned_beacon_never_passes) {
    const auto d = encode_beacon(sample());
    EXPECT_FALSE(beacon_mac_ok(d, as_bytes(secret)));
    // Setting the flag on an unsigned beacon does not make its tail a MAC.
    auto flagged = d;
    flagged[5] = beacon_flag_signed;
    EXPECT_FALSE(beacon_mac_ok(flagged, as_bytes(secret)));
    auto r = decode_beacon(d);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->is_signed);
}

TEST(signed_beacon, truncations_are_refused_by_decode_and_mac) {
    const auto d = encode_signed_beacon(sample(), when, as_bytes(secret));
    for (std::size_t n = 0; n < d.size(); ++n) {
        const bytes cut(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_FALSE(decode_beacon(cut)) << "decoded " << n << " of " << d.size() << " bytes";
        EXPECT_FALSE(beacon_mac_ok(cut, as_bytes(secret))) << n;
    }
}

TEST(signed_beacon, mac_moved_onto_another_beacon_fails) {
    auto other = sample();
    other.name = "mallory";
    const auto good = encode_signed_beacon(sample(), when, as_bytes(secret));
    auto forged = encode_signed_beacon(other, when, as_bytes("another secret of the attacker"));
    std::copy(good.end() - beacon_mac_size, good.end(), forged.end() - beacon_mac_size);
    EXPECT_FALSE(beacon_mac_ok(forged, as_bytes(secret)));
}

TEST(signed_beacon, fits_the_datagram_limit_at_maximal_fields) {
    auto b = sample();
    b.mesh = std::string(max_mesh_len, 'm');
    b.name = std::string(max_name_len, 'n');
    b.host = std::string(max_host_len, 'h');
    const auto d = encode_signed_beacon(b, UINT64_MAX, as_bytes(secret));
    EXPECT_LE(d.size(), max_beacon_size);
    EXPECT_TRUE(decode_beacon(d));
}

}  // namespace
