// SPDX-License-Identifier: MPL-2.0
// rpc decode tests: the decoders accept and refuse exactly what msgpack-cxx's object tree
// did (rpc_reference.hpp), under mutation and random bytes; they skip fields they do not
// know, the filler of older nodes' REPLYs among them; and routing ids name links.
#include "protocol/rpc.hpp"

#include "rpc_reference.hpp"
#include "support/rpc_frames.hpp"
#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <array>
#include <climits>
#include <random>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

bytes request_frame(std::vector<field> fields, std::uint8_t type = request_type) {
    return frame({version, type}, array_field(std::move(fields)));
}
bytes reply_frame(std::vector<field> fields) { return request_frame(std::move(fields), reply_type); }

bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// Returns: the header of a successful REPLY to `id` as revision-7 and -8 servers wrote it over
// their REQUEST's frame: a fixarray of 4 whose last is a filler of `filler` bytes, a nil for
// one, else a bin 8 whose content is what the request had there.
bytes padded_reply(std::uint64_t id, std::size_t filler) {
    bytes f = {version, reply_type, 0x94, 0xcf};
    for (int shift = 56; shift >= 0; shift -= 8) f.push_back(static_cast<std::uint8_t>(id >> shift));
    f.insert(f.end(), {0x00, 0xa0});
    if (filler == 1) {
        f.push_back(0xc0);
    } else {
        f.insert(f.end(), {0xc4, static_cast<std::uint8_t>(filler - 2)});
        f.resize(f.size() + filler - 2, 0x5a);
    }
    return f;
}

const auto nothing_more = [](const auto&) {};

}  // namespace

TEST(rpc_decode, mutated_frames_decode_as_the_object_tree_decoder_decodes_them) {
    // Any byte changed, inserted or dropped: accepted exactly when the reference accepts,
    // with the same header, and what is accepted re-encodes to a frame read the same.
    const auto base = request_frame({uint_field(300), str_field("stock.reserve"), uint_field(70000),
                                     array_field({map_field(), int_field(-3)})});
    const auto accepted = expect_mutations_as_reference(
        base, 3, 20261123, request_alone, tree_request, [](const owned_request& h) {
            EXPECT_EQ(request_alone(encoded_request({h.id, h.method, h.timeout_ms})), h);
        });
    EXPECT_GT(accepted, 100);   // the comparison saw both outcomes
}

TEST(rpc_decode, the_encoders_frames_mutated_decode_as_the_object_tree_decoder_decodes_them) {
    const std::uint64_t id = (std::uint64_t{9} << 32) | 4;
    EXPECT_GT(expect_mutations_as_reference(encoded_request({id, "stock.reserve", 70000}), 2, 20261124,
                                            request_alone, tree_request, nothing_more),
              100);
    EXPECT_GT(expect_mutations_as_reference(encoded_reply({id, 0, "fine"}), 2, 20261125, reply_alone,
                                            tree_reply, nothing_more),
              100);
    EXPECT_GT(expect_mutations_as_reference(encoded_reply({7, -32601, "no method 'x'"}), 2, 20261127,
                                            reply_alone, tree_reply, nothing_more),
              100);
    // A reply a revision-7 or -8 server wrote over its request's frame: a fourth field, a
    // filler (a nil, or a bin 8 over bytes the request left there).
    for (const std::size_t filler : {1, 12})
        EXPECT_GT(expect_mutations_as_reference(padded_reply(id, filler), 2, 20261126 + filler, reply_alone,
                                                tree_reply, nothing_more),
                  100)
            << filler;
}

TEST(rpc_decode, random_bytes_after_a_version_and_type_are_refused_or_read_without_throwing) {
    std::mt19937 rng(20261128);
    std::uniform_int_distribution<int> byte(0, 255), length(0, 64);
    int decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        bytes f = {version, i % 2 ? request_type : reply_type};
        for (int n = length(rng); n > 0; --n) f.push_back(static_cast<std::uint8_t>(byte(rng)));
        if (i % 3 == 0 && f.size() > 2) f[2] = static_cast<std::uint8_t>(0x93 + i % 2);   // an array
        ASSERT_NO_THROW({
            decoded += decode_request(f).ok();
            decoded += decode_reply(f).ok();
        }) << i;
        EXPECT_EQ(request_alone(f), tree_request(f)) << i;
        EXPECT_EQ(reply_alone(f), tree_reply(f)) << i;
    }
    EXPECT_GT(decoded, 0);
}

// Revisions 7 and 8 answered a reactor handler's echo in its REQUEST's frame, the REPLY header
// stretched by a filler (PROTOCOL.md §10.4, Appendix C): nodes of those revisions still send
// them, and every filler they could write reads as the header it stretched.
TEST(rpc_decode, padded_replies_of_older_nodes_read_as_the_header_they_stretch) {
    const std::uint64_t id = (std::uint64_t{3} << 32) | 5;
    for (std::size_t filler = 1; filler <= 2 + 255; ++filler) {
        auto frame = padded_reply(id, filler);
        frame.push_back(0xc3);   // the result, where it lay
        const auto m = decode_reply(frame);
        ASSERT_TRUE(m) << filler;
        EXPECT_EQ(m->header, (reply_header{id, 0, ""})) << filler;
        ASSERT_EQ(m->body.size(), 1u) << filler;
        EXPECT_EQ(m->body.data(), frame.data() + 14 + filler);
    }
}

TEST(rpc_decode, ignores_extra_trailing_elements_and_the_body_starts_after_them) {
    auto four = std::vector<field>{uint_field(7), str_field("echo"), uint_field(250), str_field("future")};
    auto request = request_frame(four);
    const auto header_size = request.size();
    request.push_back(0x2a);
    const auto m = decode_request(request);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->header, (request_header{7, "echo", 250}));
    EXPECT_EQ(m->body.data(), request.data() + header_size);
    EXPECT_EQ(m->body.size(), 1u);

    auto five = std::vector<field>{uint_field(7), int_field(409), str_field("taken"), map_field(),
                                   array_field({map_field(), array_field({nil_field(), bin_field(3)})})};
    EXPECT_EQ(reply_alone(reply_frame(five)), (owned_reply{7, 409, "taken"}));
    five.insert(five.begin() + 3, map_field());   // six, a map before the array
    EXPECT_TRUE(reply_alone(reply_frame(five)));
}

TEST(rpc_decode, reads_non_negative_numbers_in_signed_formats_as_the_object_tree_does) {
    // [id, "m", timeout] with id and timeout as int8, int16, int32 and int64.
    const std::vector<std::pair<bytes, std::uint64_t>> numbers = {
        {{0xd0, 0x05}, 5},
        {{0xd1, 0x01, 0x00}, 256},
        {{0xd2, 0x7f, 0xff, 0xff, 0xff}, 0x7fffffff},
        {{0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, INT64_MAX},
        {{0xd3, 0, 0, 0, 0, 0, 0, 0, 0}, 0},
    };
    for (const auto& [n, value] : numbers) {
        const auto f = cat({{version, request_type, 0x93}, n, {0xa1, 'm'}, n});
        const owned_request want{value, "m", value};
        EXPECT_EQ(tree_request(f), want) << value;
        EXPECT_EQ(request_alone(f), want) << value;
        // The same numbers as id and code: [n, n, ""].
        const auto reply = cat({{version, reply_type, 0x93}, n, n, {0xa0}});
        EXPECT_EQ(reply_alone(reply), (owned_reply{value, static_cast<std::int64_t>(value), ""})) << value;
    }
    // Negative in a signed format: no id or timeout, but a code.
    for (const auto& f : {bytes{version, request_type, 0x93, 0xd0, 0xff, 0xa1, 'm', 0},
                          bytes{version, request_type, 0x93, 0, 0xa1, 'm', 0xd1, 0xff, 0}})
        EXPECT_EQ(failure(decode_request(f)), errc::wrong_type);
    EXPECT_EQ(reply_alone(bytes{version, reply_type, 0x93, 0, 0xd1, 0xff, 0, 0xa0}), (owned_reply{0, -256, ""}));
    // A code over INT64_MAX (uint64) fits no int64.
    EXPECT_EQ(failure(decode_reply(bytes{version, reply_type, 0x93, 0, 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xa0})),
              errc::wrong_type);
}

// A routing id names a node's link (its id) or its call link (its id, then 'C'), each with
// or without a link token after it: anything else names no node.
TEST(rpc_routing, routing_ids_name_a_link_or_a_call_link_and_nothing_else) {
    const auto id = node_id::random();
    std::array<std::uint8_t, max_routing_id_size> buffer;
    for (const bool call_link : {false, true})
        for (const std::uint64_t token : {std::uint64_t{0}, std::uint64_t{0x0102030405060708}, ~std::uint64_t{0}}) {
            const auto routing = routing_id_of({id, call_link, token}, buffer);
            EXPECT_EQ(routing.size(), 16u + (call_link ? 1 : 0) + (token ? 8 : 0));
            const auto read = read_routing_id(routing);
            ASSERT_TRUE(read);
            EXPECT_EQ(read->id, id);
            EXPECT_EQ(read->call_link, call_link);
            EXPECT_EQ(read->token, token);
        }
    auto other = std::vector<std::uint8_t>(id.bytes().begin(), id.bytes().end());
    other.push_back('L');   // 17 bytes, not a call link's
    EXPECT_FALSE(read_routing_id(other));
    other.resize(25, 1);    // 25 bytes, still no 'C' after the id
    EXPECT_FALSE(read_routing_id(other));
    for (const std::size_t size : {0, 15, 18, 23, 26})
        EXPECT_FALSE(read_routing_id(std::span(other.data(), std::min(size, other.size())))) << size;
    EXPECT_FALSE(read_routing_id(std::vector<std::uint8_t>(26, 1)));
}
