// SPDX-License-Identifier: MPL-2.0
// member_meta: round trip, byte layout, the largest meta, services left out when they do not
// fit, published prefixes listed whole or not at all, and every way a meta is refused.
#include "protocol/member_meta.hpp"

#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <stdexcept>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

member_meta sample() {
    return {"alpha", "tcp://192.0.2.9:5001", "tcp://192.0.2.9:5002", false, {"echo", "time.now"}, true};
}

bytes as_bytes(const std::string& s) { return bytes(s.begin(), s.end()); }

result<member_meta> decode(const std::string& s) { return decode_member_meta(as_bytes(s)); }

member_meta decoded(const bytes& b) {
    auto r = decode_member_meta(b);
    EXPECT_TRUE(r) << to_string(r.error());
    return r ? *r : member_meta{};
}

std::vector<field> good_fields() {
    return {str_field("alpha"), str_field("tcp://h:1"), str_field("tcp://h:2"), uint_field(0),
            array_field({str_field("echo")})};
}

bytes meta_with(std::size_t i, field f) {
    auto fields = good_fields();
    fields[i] = std::move(f);
    return pack(array_field(std::move(fields)));
}

errc error_of(const bytes& b) {
    auto r = decode_member_meta(b);
    EXPECT_FALSE(r) << "decoded a bad meta";
    return r ? errc{} : r.error();
}

// The longest endpoint a receiver accepts: a host of max_host_len and a five-digit port.
std::string longest_endpoint(char fill) { return "tcp://" + std::string(max_host_len, fill) + ":65535"; }

}  // namespace

TEST(member_meta, round_trips) {
    auto m = sample();
    EXPECT_EQ(decoded(as_bytes(encode_member_meta(m))), m);
    m.observer = true;
    m.services.clear();
    EXPECT_EQ(decoded(as_bytes(encode_member_meta(m))), m);
    m.services_complete = false;   // said so by the member: kept although all fit
    EXPECT_EQ(decoded(as_bytes(encode_member_meta(m))), m);
    m = {"n", "tcp://[::1]:1", "tcp://h:65535", false, {}, true};
    EXPECT_EQ(decoded(as_bytes(encode_member_meta(m))), m);
}

TEST(member_meta, layout_is_one_array_of_five_fields) {
    auto m = sample();
    m.observer = true;
    EXPECT_EQ(as_bytes(encode_member_meta(m)),
              pack(array_field({str_field("alpha"), str_field("tcp://192.0.2.9:5001"),
                                str_field("tcp://192.0.2.9:5002"), uint_field(1),
                                array_field({str_field("echo"), str_field("time.now")})})));
}

TEST(member_meta, published_prefixes_round_trip_sorted_as_a_sixth_field) {
    auto m = sample();
    m.publishes_listed = true;   // listed and empty: it publishes nothing
    EXPECT_EQ(decoded(as_bytes(encode_member_meta(m))), m);
    m.publishes = {"orders.", "audit"};
    EXPECT_EQ(as_bytes(encode_member_meta(m)),
              pack(array_field({str_field("alpha"), str_field("tcp://192.0.2.9:5001"),
                                str_field("tcp://192.0.2.9:5002"), uint_field(member_flag_publishes_listed),
                                array_field({str_field("echo"), str_field("time.now")}),
                                array_field({str_field("orders."), str_field("audit")})})));
    const auto back = decoded(as_bytes(encode_member_meta(m)));
    EXPECT_TRUE(back.publishes_listed);
    EXPECT_EQ(back.publishes, (std::vector<std::string>{"audit", "orders."}));
    // Not listed: no sixth field, and a receiver takes it as "may publish anything".
    m.publishes_listed = false;
    EXPECT_EQ(decoded(as_bytes(encode_member_meta(m))).publishes, std::vector<std::string>{});
    EXPECT_EQ(as_bytes(encode_member_meta(m)), as_bytes(encode_member_meta(sample())));
}

TEST(member_meta, published_prefixes_go_whole_or_not_at_all) {
    auto m = sample();
    m.publishes_listed = true;
    for (std::size_t i = 0; i < max_published_prefixes; ++i) m.publishes.push_back("topic" + std::to_string(i) + ".");
    EXPECT_TRUE(decoded(as_bytes(encode_member_meta(m))).publishes_listed);
    m.publishes.push_back("one.more.");
    auto back = decoded(as_bytes(encode_member_meta(m)));
    EXPECT_FALSE(back.publishes_listed) << "a partial list would hide a publisher from its subscribers";
    EXPECT_TRUE(back.publishes.empty());
    // Services that fill the meta come first; the prefixes that no longer fit are not listed.
    m.publishes = {std::string(max_topic_len, 'p')};
    for (char c = 'a'; c <= 'z'; ++c) m.services.push_back(std::string(max_service_len, c));
    back = decoded(as_bytes(encode_member_meta(m)));
    EXPECT_FALSE(back.publishes_listed);
    EXPECT_FALSE(back.services.empty());
    EXPECT_LE(encode_member_meta(m).size(), max_gossip_meta);
}

TEST(member_meta, the_largest_meta_fits_and_keeps_the_services_that_fit) {
    member_meta m{std::string(max_name_len, 'n'), longest_endpoint('p'), longest_endpoint('r'), true, {}, true};
    for (char c = 'a'; c <= 'z'; ++c) m.services.push_back(std::string(max_service_len, c));
    const auto meta = encode_member_meta(m);
    EXPECT_LE(meta.size(), max_gossip_meta);
    const auto back = decoded(as_bytes(meta));
    EXPECT_EQ(back.name, m.name);
    EXPECT_EQ(back.router_endpoint, m.router_endpoint);
    EXPECT_TRUE(back.observer);
    EXPECT_FALSE(back.services_complete);
    ASSERT_GE(back.services.size(), 2u);   // the header leaves room for two of the longest
    ASSERT_LT(back.services.size(), m.services.size());
    EXPECT_EQ(back.services, std::vector<std::string>(m.services.begin(), m.services.begin() + back.services.size()));
    // One more would not have fitted: with exactly those, the meta is complete.
    m.services.resize(back.services.size());
    EXPECT_TRUE(decoded(as_bytes(encode_member_meta(m))).services_complete);
    m.services.push_back(std::string(max_service_len, 'z'));
    EXPECT_FALSE(decoded(as_bytes(encode_member_meta(m))).services_complete);
    // Endpoints at the encoder's bound fit too, however many services are left out.
    m.pub_endpoint = m.router_endpoint = std::string(max_endpoint_len, 'e');
    EXPECT_LE(encode_member_meta(m).size(), max_gossip_meta);
}

TEST(member_meta, services_are_cut_in_order_and_at_most_max_services) {
    auto m = sample();
    m.services.clear();
    for (int i = 0; i < 400; ++i) m.services.push_back("s" + std::to_string(1000 + i));
    auto back = decoded(as_bytes(encode_member_meta(m)));
    EXPECT_FALSE(back.services_complete);
    ASSERT_FALSE(back.services.empty());
    EXPECT_EQ(back.services, std::vector<std::string>(m.services.begin(), m.services.begin() + back.services.size()));
    // Small enough that a meta holds more than max_services of them: the count still stops there.
    m.services.clear();
    for (char c = '!'; c <= '~'; ++c)
        for (char d : {'0', '1', '2'}) m.services.push_back(std::string(1, c) + d);
    ASSERT_GT(m.services.size(), max_services);
    back = decoded(as_bytes(encode_member_meta(m)));
    EXPECT_EQ(back.services.size(), max_services);
    EXPECT_FALSE(back.services_complete);
    m.services.resize(max_services);
    EXPECT_TRUE(decoded(as_bytes(encode_member_meta(m))).services_complete);
}

TEST(member_meta, encoder_refuses_fields_out_of_their_bounds) {
    const auto refused = [](auto change) {
        auto m = sample();
        change(m);
        EXPECT_THROW(encode_member_meta(m), std::length_error);
    };
    refused([](member_meta& m) { m.name.clear(); });
    refused([](member_meta& m) { m.name.assign(max_name_len + 1, 'n'); });
    refused([](member_meta& m) { m.pub_endpoint.clear(); });
    refused([](member_meta& m) { m.router_endpoint.assign(max_endpoint_len + 1, 'e'); });
    refused([](member_meta& m) { m.services.push_back(""); });
    refused([](member_meta& m) { m.services.push_back(std::string(max_service_len + 1, 's')); });
    refused([](member_meta& m) { m.publishes_listed = true; m.publishes.push_back(""); });
    refused([](member_meta& m) { m.publishes_listed = true; m.publishes.push_back(std::string(max_topic_len + 1, 't')); });
}

TEST(member_meta, decoder_sorts_services_and_removes_duplicates) {
    const auto m = decoded(meta_with(4, array_field({str_field("time"), str_field("echo"), str_field("time")})));
    EXPECT_EQ(m.services, (std::vector<std::string>{"echo", "time"}));
}

TEST(member_meta, ignores_trailing_fields_and_unknown_flag_bits) {
    auto fields = good_fields();
    fields[3] = uint_field(0xf8);
    fields.push_back(str_field("later"));
    fields.push_back(array_field({map_field(), bin_field(3)}));
    const auto m = decoded(pack(array_field(fields)));
    EXPECT_FALSE(m.observer);
    EXPECT_TRUE(m.services_complete);
    EXPECT_EQ(m.name, "alpha");
    EXPECT_EQ(decoded(meta_with(3, uint_field(3))).services_complete, false);
    EXPECT_EQ(decoded(meta_with(3, uint_field(3))).observer, true);
}

TEST(member_meta, refuses_what_is_not_a_valid_meta) {
    EXPECT_TRUE(decode_member_meta(pack(array_field(good_fields()))));   // the baseline
    EXPECT_EQ(error_of(bytes{}), errc::truncated);
    EXPECT_EQ(error_of(bytes(max_gossip_meta + 1, 0x90)), errc::oversized);
    auto trailing = pack(array_field(good_fields()));
    trailing.push_back(0xc0);
    EXPECT_EQ(error_of(trailing), errc::bad_msgpack);
    EXPECT_EQ(error_of(pack(str_field("alpha"))), errc::wrong_type);
    auto four = good_fields();
    four.pop_back();
    EXPECT_EQ(error_of(pack(array_field(four))), errc::wrong_type);

    EXPECT_EQ(error_of(meta_with(0, bin_field(5))), errc::wrong_type);
    EXPECT_EQ(error_of(meta_with(0, str_field(""))), errc::bad_field);
    EXPECT_EQ(error_of(meta_with(0, str_field(std::string(max_name_len + 1, 'n')))), errc::oversized);
    for (std::size_t i : {1u, 2u}) {
        EXPECT_EQ(error_of(meta_with(i, uint_field(1))), errc::wrong_type);
        EXPECT_EQ(error_of(meta_with(i, str_field(""))), errc::bad_field);
        EXPECT_EQ(error_of(meta_with(i, str_field("udp://h:1"))), errc::bad_field);
        EXPECT_EQ(error_of(meta_with(i, str_field("tcp://*:1"))), errc::bad_field);
        EXPECT_EQ(error_of(meta_with(i, str_field("tcp://h:0"))), errc::bad_field);
        EXPECT_EQ(error_of(meta_with(i, str_field("tcp://" + std::string(max_endpoint_len, 'h') + ":1"))),
                  errc::oversized);
    }
    EXPECT_EQ(error_of(meta_with(3, int_field(-1))), errc::wrong_type);
    EXPECT_EQ(error_of(meta_with(3, bool_field(true))), errc::wrong_type);
    EXPECT_EQ(error_of(meta_with(3, uint_field(256))), errc::bad_field);
    EXPECT_EQ(error_of(meta_with(4, str_field("echo"))), errc::wrong_type);
    EXPECT_EQ(error_of(meta_with(4, array_field({str_field("")}))), errc::bad_field);
    EXPECT_EQ(error_of(meta_with(4, array_field({uint_field(1)}))), errc::wrong_type);
    EXPECT_EQ(error_of(meta_with(4, array_field({str_field(std::string(max_service_len + 1, 's'))}))),
              errc::oversized);
    std::vector<field> many(max_services + 1, str_field("s"));
    EXPECT_EQ(error_of(meta_with(4, array_field(many))), errc::oversized);
    many.pop_back();
    EXPECT_TRUE(decode_member_meta(meta_with(4, array_field(many))));

    // Published prefixes: the flag says the sixth field is there.
    const auto with_publishes = [](field sixth) {
        auto fields = good_fields();
        fields[3] = uint_field(member_flag_publishes_listed);
        fields.push_back(std::move(sixth));
        return pack(array_field(std::move(fields)));
    };
    EXPECT_TRUE(decode_member_meta(with_publishes(array_field({str_field("orders.")}))));
    EXPECT_EQ(error_of(meta_with(3, uint_field(member_flag_publishes_listed))), errc::wrong_type);
    EXPECT_EQ(error_of(with_publishes(str_field("orders."))), errc::wrong_type);
    EXPECT_EQ(error_of(with_publishes(array_field({str_field("")}))), errc::bad_field);
    EXPECT_EQ(error_of(with_publishes(array_field({uint_field(1)}))), errc::wrong_type);
    EXPECT_EQ(error_of(with_publishes(array_field({str_field(std::string(max_topic_len + 1, 't'))}))),
              errc::oversized);
    std::vector<field> prefixes(max_published_prefixes + 1, str_field("p"));
    EXPECT_EQ(error_of(with_publishes(array_field(prefixes))), errc::oversized);
}

TEST(member_meta, every_truncated_prefix_is_an_error) {
    const auto meta = as_bytes(encode_member_meta(sample()));
    for (std::size_t n = 0; n < meta.size(); ++n) {
        auto r = decode_member_meta(std::span(meta.data(), n));
        ASSERT_FALSE(r) << "prefix " << n;
        EXPECT_EQ(r.error(), errc::truncated) << "prefix " << n;
    }
}

TEST(member_meta, random_and_mutated_bytes_never_throw_and_stay_consistent) {
    std::mt19937 rng(11);
    const auto check = [](const bytes& b) {
        std::optional<result<member_meta>> r;
        ASSERT_NO_THROW(r.emplace(decode_member_meta(b)));
        if (!*r) return;
        const auto again = decode(encode_member_meta(r->value()));
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, r->value());
    };
    for (int i = 0; i < 5000; ++i) check(random_bytes(rng, static_cast<std::size_t>(i % 300)));
    const auto good = as_bytes(encode_member_meta(sample()));
    std::uniform_int_distribution<std::size_t> pos(0, good.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 5000; ++i) {
        auto b = good;
        b[pos(rng)] = static_cast<std::uint8_t>(byte(rng));
        check(b);
    }
}
