// SPDX-License-Identifier: MPL-2.0
// gossip codec: round trip, byte layout, what does not fit, and every way a datagram is refused.
#include "protocol/gossip.hpp"

#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

gossip_datagram sample() {
    return {"lab",
            id_of(0x11),
            {gossip_kind::ping_req, 42, id_of(0x22),
             {{id_of(0x33), 7, gossip_status::alive, {}, "name=alpha"},
              {id_of(0x22), 3, gossip_status::suspect, id_of(0x11), {}},
              {id_of(0x44), 1, gossip_status::left, {}, {}}}}};
}

bytes header(std::uint8_t type = 2, std::uint8_t ver = version) { return {'Z', 'M', 'G', 'S', ver, type}; }

field update_field(std::uint64_t state = 0, std::size_t meta = 0, std::uint8_t id = 0x33) {
    return array_field({bin_field(16, id), uint_field(7), uint_field(state), bin_field(16, 0), bin_field(meta, 0x61)});
}

bytes crafted(std::vector<field> updates, std::uint8_t type = 2, field from = bin_field(16, 0x11)) {
    return frame(header(type), array_field({str_field("lab"), std::move(from), uint_field(42), bin_field(16, 0x22),
                                            array_field(std::move(updates))}));
}

errc error_of(const bytes& d) {
    auto r = decode_gossip(d);
    EXPECT_FALSE(r.ok());
    return r ? errc::bad_field : r.error();
}

TEST(GossipCodec, RoundTripsEveryKindAndState) {
    auto d = sample();
    for (auto type : {gossip_kind::ping, gossip_kind::ping_req, gossip_kind::ack, gossip_kind::nack}) {
        d.message.type = type;
        std::size_t written = 0;
        const auto bytes = encode_gossip(d, &written);
        EXPECT_EQ(written, 3u);
        auto back = decode_gossip(bytes);
        ASSERT_TRUE(back) << to_string(back.error());
        EXPECT_EQ(*back, d);
    }
}

TEST(GossipCodec, LayoutIsMagicVersionTypeThenOneArray) {
    const auto bytes = encode_gossip(sample());
    ASSERT_GE(bytes.size(), 7u);
    EXPECT_EQ(bytes, crafted({array_field({bin_field(16, 0x33), uint_field(7), uint_field(0), bin_field(16, 0),
                                           [](packer& pk) {
                                               pk.pack_bin(10);
                                               pk.pack_bin_body("name=alpha", 10);
                                           }}),
                              array_field({bin_field(16, 0x22), uint_field(3), uint_field(1), bin_field(16, 0x11),
                                           bin_field(0)}),
                              array_field({bin_field(16, 0x44), uint_field(1), uint_field(3), bin_field(16, 0),
                                           bin_field(0)})}));
}

TEST(GossipCodec, UpdatesThatDoNotFitAreLeftOutInOrder) {
    auto d = sample();
    d.message.updates.clear();
    for (std::uint8_t i = 1; i <= 20; ++i) d.message.updates.push_back({id_of(i), i, gossip_status::alive, {}, std::string(300, 'm')});
    std::size_t written = 0;
    const auto bytes = encode_gossip(d, &written);
    EXPECT_LE(bytes.size(), max_gossip_size);
    EXPECT_EQ(written, 3u);   // 3 of ~345 bytes fit 1400 with the header
    auto back = decode_gossip(bytes);
    ASSERT_TRUE(back);
    ASSERT_EQ(back->message.updates.size(), 3u);
    EXPECT_EQ(back->message.updates[2].id, id_of(3));
    // Small updates: no more than max_gossip_updates however small.
    for (auto& u : d.message.updates) u.meta.clear();
    (void)encode_gossip(d, &written);
    EXPECT_EQ(written, max_gossip_updates);
}

TEST(GossipCodec, UpdatesWithinTheRoomAlwaysFitWhateverTheMesh) {
    auto d = sample();
    d.mesh.assign(max_mesh_len, 'x');
    d.message.seq = 0xffffffff;
    d.message.updates.clear();
    std::size_t taken = 0;
    for (std::uint8_t i = 1; i <= 20; ++i) {
        gossip_update u{id_of(i), 0xffffffff, gossip_status::alive, id_of(0x99), std::string(i * 37, 'm')};
        EXPECT_EQ(gossip_update_size(u), [&] {   // what one update alone adds to a datagram
            auto alone = d;
            alone.message.updates = {u};
            auto none = d;
            none.message.updates = {};
            return encode_gossip(alone).size() - encode_gossip(none).size();
        }());
        if (taken + gossip_update_size(u) > gossip_updates_room) break;
        taken += gossip_update_size(u);
        d.message.updates.push_back(u);
    }
    ASSERT_GE(d.message.updates.size(), 2u);
    std::size_t written = 0;
    const auto bytes = encode_gossip(d, &written);
    EXPECT_EQ(written, d.message.updates.size()) << "the room is what the largest header leaves";
    EXPECT_LE(bytes.size(), max_gossip_size);
}

TEST(GossipCodec, EncoderRefusesFieldsOverTheirBounds) {
    auto d = sample();
    d.message.updates[0].meta.assign(max_gossip_meta + 1, 'm');
    EXPECT_THROW(encode_gossip(d), std::length_error);
    d = sample();
    d.mesh.clear();
    EXPECT_THROW(encode_gossip(d), std::length_error);
}

TEST(GossipCodec, RefusesWhatIsNotAValidDatagram) {
    EXPECT_EQ(error_of(bytes{'Z', 'M'}), errc::truncated);
    EXPECT_EQ(error_of(bytes{'Z', 'M', 'S', 'H', 1, 2}), errc::bad_magic);
    EXPECT_EQ(error_of(bytes{'Z', 'M', 'G', 'S', 1}), errc::truncated);
    EXPECT_EQ(error_of(frame(header(2, 9), array_field({}))), errc::bad_version);
    EXPECT_EQ(error_of(crafted({}, 0)), errc::unknown_type);
    EXPECT_EQ(error_of(crafted({}, 5)), errc::unknown_type);
    EXPECT_EQ(error_of(bytes(max_gossip_size + 1, 'Z')), errc::oversized);
    EXPECT_EQ(error_of(crafted({}, 2, bin_field(16, 0))), errc::bad_field);   // no sender
    EXPECT_EQ(error_of(crafted({}, 2, bin_field(15, 0x11))), errc::bad_field);
    EXPECT_EQ(error_of(crafted({update_field(4)})), errc::bad_field);          // no such state
    EXPECT_EQ(error_of(crafted({update_field(1, 3)})), errc::bad_field);       // meta on a suspect
    EXPECT_EQ(error_of(crafted({update_field(0, 0, 0)})), errc::bad_field);    // the zero member
    EXPECT_EQ(error_of(crafted({update_field(0, max_gossip_meta + 1)})), errc::oversized);
    std::vector<field> many(max_gossip_updates + 1, update_field());
    EXPECT_EQ(error_of(crafted(many)), errc::oversized);
    EXPECT_EQ(error_of(crafted({array_field({bin_field(16, 0x33), uint_field(7)})})), errc::wrong_type);
    auto trailing = crafted({});
    trailing.push_back(0xc0);
    EXPECT_EQ(error_of(trailing), errc::bad_msgpack);
}

TEST(GossipCodec, TrailingFieldsOfALaterRevisionAreIgnored) {
    const auto d = frame(header(1), array_field({str_field("lab"), bin_field(16, 0x11), uint_field(1),
                                                 bin_field(16, 0x22),
                                                 array_field({array_field({bin_field(16, 0x33), uint_field(7),
                                                                           uint_field(0), bin_field(16, 0),
                                                                           bin_field(0), str_field("later")})}),
                                                 uint_field(99)}));
    auto g = decode_gossip(d);
    ASSERT_TRUE(g) << to_string(g.error());
    EXPECT_EQ(g->message.updates.size(), 1u);
}

TEST(GossipCodec, RandomBytesAfterAGoodHeaderNeverThrow) {
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        auto d = header(static_cast<std::uint8_t>(1 + i % 4));
        const auto tail = random_bytes(rng, static_cast<std::size_t>(i % 200));
        d.insert(d.end(), tail.begin(), tail.end());
        EXPECT_NO_THROW((void)decode_gossip(d));
    }
}

}  // namespace
