// SPDX-License-Identifier: MPL-2.0
// beacon tests: round trip, byte layout, and every way a datagram can be refused.
#include "protocol/beacon.hpp"
#include "sample_beacon.hpp"

#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

beacon sample() { return zmesh::test::sample_beacon(); }

bytes header(std::uint8_t ver = version, std::uint8_t flags = 0) {
    return {'Z', 'M', 'S', 'H', ver, flags};
}

// The six fields of a valid beacon, hand-packed, so one can be swapped for a bad one.
std::vector<field> good_fields() {
    return {str_field("lab"),       bin_field(16, 0x5a), str_field("alpha"),
            str_field("192.0.2.9"), uint_field(5001),    uint_field(5002)};
}

bytes crafted(std::vector<field> fields) { return frame(header(), array_field(std::move(fields))); }

bytes with_field(std::size_t i, field f) {
    auto fields = good_fields();
    fields[i] = std::move(f);
    return crafted(std::move(fields));
}

errc error_of(const bytes& d) {
    auto r = decode_beacon(d);
    EXPECT_FALSE(r) << "decoded a bad beacon";
    return r ? errc{} : r.error();
}

}  // namespace

TEST(beacon_codec, round_trips) {
    const beacon b = sample();
    auto r = decode_beacon(encode_beacon(b));
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(*r, b);
}

TEST(beacon_codec, round_trips_empty_host_and_maximal_fields) {
    beacon b = sample();
    b.host = "";
    b.pub_port = 1;
    b.router_port = 65535;
    auto r = decode_beacon(encode_beacon(b));
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, b);

    b.mesh = std::string(max_mesh_len, 'm');
    b.name = std::string(max_name_len, 'n');
    b.host = std::string(max_host_len, 'h');
    const auto d = encode_beacon(b);
    EXPECT_LE(d.size(), max_beacon_size);
    auto big = decode_beacon(d);
    ASSERT_TRUE(big);
    EXPECT_EQ(*big, b);
}

TEST(beacon_encode, writes_magic_version_and_zero_flags) {
    const auto d = encode_beacon(sample());
    ASSERT_GT(d.size(), 6u);
    EXPECT_EQ(bytes(d.begin(), d.begin() + 6), header());
}

TEST(beacon_codec, an_asking_beacon_sets_flag_bit_1_and_other_bits_are_ignored) {
    beacon b = sample();
    b.asking = true;
    const auto d = encode_beacon(b);
    EXPECT_EQ(d[5], beacon_flag_asking);
    auto r = decode_beacon(d);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->asking);
    EXPECT_EQ(*r, b);
    auto unknown = encode_beacon(sample());
    unknown[5] = 0xfc;   // bits 2-7: reserved
    auto u = decode_beacon(unknown);
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->asking);
    EXPECT_FALSE(u->is_signed);
}

TEST(beacon_encode, throws_length_error_on_bad_strings) {
    auto with = [](auto change) {
        beacon b = sample();
        change(b);
        return b;
    };
    EXPECT_THROW(encode_beacon(with([](beacon& b) { b.mesh.assign(max_mesh_len + 1, 'm'); })),
                 std::length_error);
    EXPECT_THROW(encode_beacon(with([](beacon& b) { b.name.assign(max_name_len + 1, 'n'); })),
                 std::length_error);
    EXPECT_THROW(encode_beacon(with([](beacon& b) { b.host.assign(max_host_len + 1, 'h'); })),
                 std::length_error);
    EXPECT_THROW(encode_beacon(with([](beacon& b) { b.mesh.clear(); })), std::length_error);
    EXPECT_THROW(encode_beacon(with([](beacon& b) { b.name.clear(); })), std::length_error);
}

TEST(beacon_decode, accepts_hand_crafted_baseline) {
    // The bad inputs below differ from this one in a single place.
    auto r = decode_beacon(crafted(good_fields()));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->name, "alpha");
    EXPECT_EQ(r->router_port, 5002);
}

TEST(beacon_decode, ignores_unknown_flags) {
    bytes d = encode_beacon(sample());
    d[5] = static_cast<std::uint8_t>(~beacon_flag_signed);
    EXPECT_TRUE(decode_beacon(d));
}

TEST(beacon_decode, accepts_extra_trailing_fields) {
    auto fields = good_fields();
    fields.push_back(str_field("future"));
    fields.push_back(array_field({uint_field(1), map_field()}));
    auto r = decode_beacon(crafted(fields));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->pub_port, 5001);
}

TEST(beacon_decode, every_truncated_prefix_is_truncated) {
    const auto d = encode_beacon(sample());
    for (std::size_t n = 0; n < d.size(); ++n) {
        auto r = decode_beacon(std::span(d.data(), n));
        ASSERT_FALSE(r) << "prefix " << n;
        EXPECT_EQ(r.error(), errc::truncated) << "prefix " << n;
    }
}

TEST(beacon_decode, rejects_oversized_datagram) {
    // Pad a valid beacon with an ignored trailing field to exactly the limit, then one more.
    auto padded = [](std::size_t total) {
        auto fields = good_fields();
        const std::size_t base = crafted(fields).size() + 3;   // + bin16 header
        fields.push_back(bin_field(total - base));
        return crafted(fields);
    };
    const auto at_limit = padded(max_beacon_size);
    ASSERT_EQ(at_limit.size(), max_beacon_size);
    EXPECT_TRUE(decode_beacon(at_limit));
    const auto over = padded(max_beacon_size + 1);
    ASSERT_EQ(over.size(), max_beacon_size + 1);
    EXPECT_EQ(error_of(over), errc::oversized);
    EXPECT_EQ(error_of(bytes(64 * 1024, 0)), errc::oversized);
}

TEST(beacon_decode, rejects_wrong_version) {
    for (std::uint8_t v : {0, 2, 0xff}) {
        bytes d = encode_beacon(sample());
        d[4] = v;
        EXPECT_EQ(error_of(d), errc::bad_version) << int(v);
    }
}

TEST(beacon_decode, rejects_foreign_magic) {
    for (std::size_t i = 0; i < 4; ++i) {
        bytes d = encode_beacon(sample());
        d[i] ^= 0x20;   // "zMSH", "ZmSH", ...
        EXPECT_EQ(error_of(d), errc::bad_magic) << i;
    }
    EXPECT_EQ(error_of(bytes{'Z', 'R', 'E', 0x01, 0x01}), errc::bad_magic);
}

TEST(beacon_decode, rejects_wrong_type_in_each_field) {
    const std::vector<field> wrong = {uint_field(1),     str_field("0123456789abcdef"),
                                      bin_field(5),      uint_field(3),
                                      str_field("5001"), int_field(-5)};
    for (std::size_t i = 0; i < wrong.size(); ++i) {
        EXPECT_EQ(error_of(with_field(i, wrong[i])), errc::wrong_type) << "field " << i;
        EXPECT_EQ(error_of(with_field(i, nil_field())), errc::wrong_type) << "field " << i;
    }
}

TEST(beacon_decode, rejects_body_that_is_not_a_six_field_array) {
    EXPECT_EQ(error_of(frame(header(), map_field())), errc::wrong_type);
    EXPECT_EQ(error_of(frame(header(), str_field("lab"))), errc::wrong_type);
    auto five = good_fields();
    five.pop_back();
    EXPECT_EQ(error_of(crafted(five)), errc::wrong_type);
    EXPECT_EQ(error_of(crafted({})), errc::wrong_type);
}

TEST(beacon_decode, rejects_fields_out_of_range) {
    EXPECT_EQ(error_of(with_field(0, str_field(""))), errc::bad_field);      // empty mesh
    EXPECT_EQ(error_of(with_field(1, bin_field(15))), errc::bad_field);      // short id
    EXPECT_EQ(error_of(with_field(1, bin_field(16, 0))), errc::bad_field);   // all-zero id
    EXPECT_EQ(error_of(with_field(2, str_field(""))), errc::bad_field);      // empty name
    EXPECT_EQ(error_of(with_field(4, uint_field(0))), errc::bad_field);
    EXPECT_EQ(error_of(with_field(5, uint_field(0))), errc::bad_field);
    EXPECT_EQ(error_of(with_field(4, uint_field(70000))), errc::bad_field);
    EXPECT_EQ(error_of(with_field(5, uint_field(65536))), errc::bad_field);
}

TEST(beacon_decode, rejects_over_long_fields_as_oversized) {
    EXPECT_EQ(error_of(with_field(0, str_field(std::string(max_mesh_len + 1, 'm')))),
              errc::oversized);
    EXPECT_EQ(error_of(with_field(1, bin_field(17))), errc::oversized);
    EXPECT_EQ(error_of(with_field(2, str_field(std::string(max_name_len + 1, 'n')))),
              errc::oversized);
    EXPECT_EQ(error_of(with_field(3, str_field(std::string(max_host_len + 1, 'h')))),
              errc::oversized);
}

TEST(beacon_decode, rejects_host_that_cannot_be_dialled) {
    EXPECT_EQ(error_of(with_field(3, str_field("a b"))), errc::bad_field);
    EXPECT_EQ(error_of(with_field(3, str_field("h:1/x"))), errc::bad_field);
    EXPECT_EQ(error_of(with_field(3, str_field("*"))), errc::bad_field);
}

TEST(beacon_decode, rejects_trailing_bytes_after_body) {
    bytes d = encode_beacon(sample());
    d.push_back(0x00);
    EXPECT_EQ(error_of(d), errc::bad_msgpack);
}

TEST(beacon_decode, random_bytes_are_refused_without_throwing) {
    std::mt19937 rng(20240601);
    std::uniform_int_distribution<std::size_t> len(0, 600);
    for (int i = 0; i < 20000; ++i) {
        const bytes d = random_bytes(rng, len(rng));
        std::optional<result<beacon>> r;
        ASSERT_NO_THROW(r.emplace(decode_beacon(d)));
        ASSERT_FALSE(*r);
        // The header is judged before the body, in this order.
        const errc want = d.size() > max_beacon_size ? errc::oversized
                          : d.size() < 4             ? errc::truncated
                          : !std::equal(beacon_magic, beacon_magic + 4, d.begin())
                              ? errc::bad_magic
                              : r->error();
        EXPECT_EQ(r->error(), want) << "input " << i;
    }
}

TEST(beacon_decode, valid_header_with_random_body_is_refused_without_throwing) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> len(0, max_beacon_size - 6);
    for (int i = 0; i < 20000; ++i) {
        bytes d = header();
        const bytes body = random_bytes(rng, len(rng));
        d.insert(d.end(), body.begin(), body.end());
        std::optional<result<beacon>> r;
        ASSERT_NO_THROW(r.emplace(decode_beacon(d)));
        EXPECT_FALSE(*r) << "input " << i;
    }
}

TEST(beacon_decode, mutated_beacons_never_throw_and_stay_consistent) {
    std::mt19937 rng(99);
    const auto good = encode_beacon(sample());
    std::uniform_int_distribution<std::size_t> pos(0, good.size() - 1), flips(1, 3);
    std::uniform_int_distribution<int> byte(0, 255);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        bytes d = good;
        for (std::size_t k = flips(rng); k > 0; --k) d[pos(rng)] = static_cast<std::uint8_t>(byte(rng));
        std::optional<result<beacon>> r;
        ASSERT_NO_THROW(r.emplace(decode_beacon(d)));
        if (!*r) continue;
        ++accepted;
        // Whatever is accepted must be a beacon the encoder can write and read back.
        const beacon& b = r->value();
        EXPECT_FALSE(b.id.empty());
        EXPECT_NE(b.pub_port, 0);
        EXPECT_NE(b.router_port, 0);
        auto again = decode_beacon(encode_beacon(b));
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, b);
    }
    EXPECT_GT(accepted, 0);   // flips inside strings keep a beacon valid
    EXPECT_LT(accepted, 20000);
}
