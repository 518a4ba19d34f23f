// SPDX-License-Identifier: MPL-2.0
// rpc canonical tests: the short paths for the headers nodes send (read in place, written
// byte by byte) accept, refuse and write exactly what the general reader and msgpack-cxx's
// packer do.
#include "protocol/rpc.hpp"

#include "rpc_reference.hpp"
#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <array>
#include <climits>
#include <utility>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

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

}  // namespace

TEST(rpc_decode, canonical_frames_mutated_decode_as_the_object_tree_decoder_decodes_them) {
    // The frames nodes send (a fixarray of 3, the id as a uint 64, a fixstr, small numbers)
    // are read by a short path; a mutation leaves that form or stays in it, and either way
    // the outcome must be the reference's.
    bytes request;
    append_request_header_open_id("stock.reserve", 70000, request);
    set_request_id(request, (std::uint64_t{9} << 32) | 4);
    const auto reply = encode_reply_header({(std::uint64_t{9} << 32) | 4, 0, "fine"});
    const auto nothing_more = [](const auto&) {};
    EXPECT_GT(expect_mutations_as_reference(
                  request, 2, 20261124, [](const bytes& f) { return decode_request_header(f); },
                  tree_request, nothing_more),
              100);   // the comparison saw both outcomes
    EXPECT_GT(expect_mutations_as_reference(
                  reply, 2, 20261125, [](const bytes& f) { return decode_reply_header(f); },
                  tree_reply, nothing_more),
              100);
    // A reply a revision-7 or -8 server wrote over its request's frame: a fourth field, a
    // filler (a nil, or a bin 8 over bytes the request left there).
    for (const std::size_t filler : {1, 12}) {
        const auto padded = padded_reply((std::uint64_t{9} << 32) | 4, filler);
        EXPECT_GT(expect_mutations_as_reference(
                      padded, 2, 20261126 + filler, [](const bytes& f) { return decode_reply_header(f); },
                      tree_reply, nothing_more),
                  100)
            << filler;
    }
}

// Revisions 7 and 8 answered a reactor handler's echo in its REQUEST's frame, the REPLY header
// stretched by a filler (PROTOCOL.md §10.4, Appendix C): nodes of those revisions still send
// them, and every filler they could write reads as the header it stretched.
TEST(rpc_decode, padded_replies_of_older_nodes_read_as_the_header_they_stretch) {
    const std::uint64_t id = (std::uint64_t{3} << 32) | 5;
    for (std::size_t filler = 1; filler <= 2 + 255; ++filler) {
        auto frame = padded_reply(id, filler);
        EXPECT_EQ(decode_reply_header(frame).value(), (reply_header{id, 0, ""})) << filler;
        frame.push_back(0xc3);   // the result, where it lay
        const auto m = read_reply(frame);
        ASSERT_TRUE(m) << filler;
        EXPECT_EQ(m->header.id, id);
        EXPECT_EQ(m->header.code, 0);
        ASSERT_EQ(m->body.size(), 1u) << filler;
        EXPECT_EQ(m->body.data(), frame.data() + 14 + filler);
    }
}

TEST(rpc_encode, headers_are_the_bytes_msgpack_cxx_packs) {
    // Short headers are written byte by byte, the rest by msgpack-cxx's packer: every value
    // around each boundary of that choice is the packer's bytes.
    const auto packed = [](std::uint8_t type, auto pack_fields) {
        msgpack::sbuffer sb;
        msgpack::packer<msgpack::sbuffer> pk(sb);
        pk.pack_array(3);
        pack_fields(pk);
        bytes f = {version, type};
        f.insert(f.end(), sb.data(), sb.data() + sb.size());
        return f;
    };
    const std::uint64_t numbers[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000,
                                     0xffffffff, 0x100000000, UINT64_MAX};
    for (const std::size_t len : {1, 31, 32, 128})
        for (const auto timeout : numbers) {
            const std::string method(len, 'm');
            bytes got;
            append_request_header_open_id(method, timeout, got);
            EXPECT_EQ(got, packed(request_type, [&](auto& pk) {
                          pk.pack_fix_uint64(0);
                          pk.pack(method);
                          pk.pack(timeout);
                      })) << len << " " << timeout;
        }
    const std::int64_t codes[] = {INT64_MIN, -32601, -1, 0, 1, 0x7f, 0x80, INT64_MAX};
    for (const auto id : numbers)
        for (const auto code : codes)
            for (const std::size_t len : {0, 31, 32}) {
                const reply_header h{id, code, std::string(len, 'e')};
                EXPECT_EQ(encode_reply_header(h), packed(reply_type, [&](auto& pk) {
                              pk.pack(h.id);
                              pk.pack(h.code);
                              pk.pack(h.message);
                          })) << id << " " << code << " " << len;
            }
}

TEST(rpc_decode, views_read_what_the_owning_decoders_read) {
    bytes request;
    append_request_header_open_id("echo", 250, request);
    set_request_id(request, 77);
    request.push_back(0xc3);   // body: true
    const auto r = read_request(request);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header.id, 77u);
    EXPECT_EQ(r->header.method, "echo");
    EXPECT_EQ(r->header.timeout_ms, 250u);
    EXPECT_EQ(r->header.method.data(), reinterpret_cast<const char*>(request.data()) + 13);
    EXPECT_EQ(r->body.size(), 1u);
    for (const auto& h : {reply_header{1, 0, ""}, reply_header{std::uint64_t{1} << 40, 127, "x"},
                          reply_header{3, -32601, "no method"}, reply_header{4, 128, "y"}}) {
        auto frame = encode_reply(h, bytes{0xc0});
        const auto v = read_reply(frame);
        ASSERT_TRUE(v);
        EXPECT_EQ(v->header.id, h.id);
        EXPECT_EQ(v->header.code, h.code);
        EXPECT_EQ(v->header.message, h.message);
        EXPECT_EQ(v->body.size(), 1u);
    }
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
