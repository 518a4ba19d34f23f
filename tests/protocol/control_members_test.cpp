// SPDX-License-Identifier: MPL-2.0
// MEMBERS (control.hpp): round trip, byte layout, the largest message, and every way one is
// refused, each update as strictly as in a gossip datagram.
#include "protocol/control.hpp"
#include "protocol/gossip.hpp"

#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

members sample() {
    return {true,
            {{id_of(0x33), 7, gossip_status::alive, {}, "name=alpha"},
             {id_of(0x22), 3, gossip_status::suspect, id_of(0x11), {}},
             {id_of(0x44), UINT32_MAX, gossip_status::dead, {}, {}},
             {id_of(0x55), 0, gossip_status::left, {}, {}}}};
}

bytes head() { return {version, static_cast<std::uint8_t>(msg_type::members)}; }

field update_field(std::uint64_t state = 0, std::size_t meta = 0, std::uint8_t id = 0x33,
                   std::uint64_t incarnation = 7, std::size_t by_size = 16) {
    return array_field({bin_field(16, id), uint_field(incarnation), uint_field(state), bin_field(by_size, 0),
                        bin_field(meta, 0x61)});
}

bytes crafted(std::vector<field> updates, field flags = uint_field(1)) {
    return frame(head(), array_field({std::move(flags), array_field(std::move(updates))}));
}

errc error_of(const bytes& f) {
    auto r = decode_control(f);
    EXPECT_FALSE(r) << "decoded a bad frame";
    return r ? errc{} : r.error();
}

members decoded(const bytes& f) {
    auto r = decode_control(f);
    EXPECT_TRUE(r) << to_string(r.error());
    if (!r) return {};
    EXPECT_TRUE(std::holds_alternative<members>(*r));
    return std::get<members>(*r);
}

// Returns: the bytes of the only update of `d`, as a gossip datagram carries it.
bytes update_in_datagram(const gossip_update& u) {
    const auto without = encode_gossip({"lab", id_of(1), {gossip_kind::ping, 1, id_of(2), {}}});
    const auto with = encode_gossip({"lab", id_of(1), {gossip_kind::ping, 1, id_of(2), {u}}});
    return bytes(with.begin() + static_cast<std::ptrdiff_t>(without.size()), with.end());
}

}  // namespace

TEST(control_members, round_trips_every_state_and_both_ways) {
    auto m = sample();
    for (bool reply_wanted : {true, false}) {
        m.reply_wanted = reply_wanted;
        EXPECT_EQ(decoded(encode_control(m)), m);
    }
    EXPECT_EQ(decoded(encode_control(members{})), members{});
}

TEST(control_members, layout_is_flags_then_the_updates_as_gossip_writes_them) {
    const auto m = sample();
    const auto f = encode_control(m);
    bytes want = {version, 0x09, 0x92, 0x01, 0x94};
    for (const auto& u : m.list) {
        const auto one = update_in_datagram(u);
        want.insert(want.end(), one.begin(), one.end());
    }
    EXPECT_EQ(f, want);
    EXPECT_EQ(encode_control(members{false, {}}), (bytes{version, 0x09, 0x92, 0x00, 0x90}));
}

TEST(control_members, the_largest_message_fits_one_frame_and_one_more_update_throws) {
    members m;
    for (std::size_t i = 0; i < max_members_per_message; ++i)
        m.list.push_back({id_of(static_cast<std::uint8_t>(1 + i % 250)), UINT32_MAX, gossip_status::alive, {},
                          std::string(max_gossip_meta, 'm')});
    const auto f = encode_control(m);
    EXPECT_LE(f.size(), max_control_size);
    EXPECT_EQ(decoded(f), m);
    m.list.push_back(m.list.front());
    EXPECT_THROW(encode_control(m), std::length_error);
    m.list.pop_back();
    m.list.back().meta.push_back('m');
    EXPECT_THROW(encode_control(m), std::length_error);
}

TEST(control_members, accepts_the_hand_crafted_baseline) {
    // The bad inputs below differ from it in a single place.
    const auto m = decoded(crafted({update_field()}));
    EXPECT_TRUE(m.reply_wanted);
    ASSERT_EQ(m.list.size(), 1u);
    EXPECT_EQ(m.list[0].id, id_of(0x33));
}

TEST(control_members, refuses_updates_a_gossip_datagram_would_refuse) {
    EXPECT_EQ(error_of(crafted({update_field(0, 0, 0)})), errc::bad_field);   // the zero member
    EXPECT_EQ(error_of(crafted({update_field(4)})), errc::bad_field);         // no such state
    EXPECT_EQ(error_of(crafted({update_field(1, 3)})), errc::bad_field);      // meta on a suspect
    EXPECT_EQ(error_of(crafted({update_field(2, 1)})), errc::bad_field);      // meta on the dead
    EXPECT_EQ(error_of(crafted({update_field(3, 1)})), errc::bad_field);      // meta on one that left
    EXPECT_EQ(error_of(crafted({update_field(0, 0, 0x33, 1ull << 32)})), errc::bad_field);
    EXPECT_EQ(error_of(crafted({update_field(1, 0, 0x33, 7, 15)})), errc::bad_field);   // `by` not an id
    EXPECT_EQ(error_of(crafted({update_field(0, max_gossip_meta + 1)})), errc::oversized);
    EXPECT_EQ(error_of(crafted({update_field(), uint_field(1)})), errc::wrong_type);
    EXPECT_EQ(error_of(crafted({array_field({bin_field(16, 0x33), uint_field(7), uint_field(0), bin_field(16, 0)})})),
              errc::wrong_type);
    EXPECT_EQ(error_of(crafted({array_field({str_field("id"), uint_field(7), uint_field(0), bin_field(16, 0),
                                             bin_field(0)})})),
              errc::wrong_type);
    // One bad update refuses the whole message, wherever it is.
    EXPECT_EQ(error_of(crafted({update_field(), update_field(), update_field(4)})), errc::bad_field);
}

TEST(control_members, refuses_a_malformed_body) {
    EXPECT_EQ(error_of(frame(head(), array_field({uint_field(1)}))), errc::wrong_type);   // no list
    EXPECT_EQ(error_of(frame(head(), array_field({}))), errc::wrong_type);
    EXPECT_EQ(error_of(crafted({}, str_field("1"))), errc::wrong_type);
    EXPECT_EQ(error_of(crafted({}, int_field(-1))), errc::wrong_type);
    EXPECT_EQ(error_of(crafted({}, uint_field(256))), errc::bad_field);
    EXPECT_EQ(error_of(frame(head(), array_field({uint_field(0), map_field()}))), errc::wrong_type);
    EXPECT_EQ(error_of(frame(head(), array_field({uint_field(0), str_field("x")}))), errc::wrong_type);
    std::vector<field> many(max_members_per_message + 1, update_field());
    EXPECT_EQ(error_of(crafted(many)), errc::oversized);
    many.pop_back();
    EXPECT_EQ(decoded(crafted(many)).list.size(), max_members_per_message);
}

TEST(control_members, ignores_trailing_fields_and_unknown_flag_bits) {
    const auto f = frame(head(), array_field({uint_field(0xfe),
                                              array_field({array_field({bin_field(16, 0x33), uint_field(7),
                                                                        uint_field(0), bin_field(16, 0), bin_field(2),
                                                                        str_field("later")})}),
                                              str_field("later"), map_field()}));
    const auto m = decoded(f);
    EXPECT_FALSE(m.reply_wanted);
    ASSERT_EQ(m.list.size(), 1u);
    EXPECT_EQ(m.list[0].meta, std::string(2, static_cast<char>(0xab)));
}
