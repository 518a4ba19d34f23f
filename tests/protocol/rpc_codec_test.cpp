// SPDX-License-Identifier: MPL-2.0
// rpc codec tests: every REQUEST and REPLY round trips through its one encoder and its one
// decoder, the encoders write the layout of PROTOCOL.md §10.4, and malformed frames
// (truncated, of another version or type, mistyped, oversized) are refused without throwing.
#include "protocol/rpc.hpp"

#include "rpc_reference.hpp"
#include "support/rpc_frames.hpp"
#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <stdexcept>
#include <string>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

bytes request_frame(std::vector<field> fields, std::uint8_t type = request_type) {
    return frame({version, type}, array_field(std::move(fields)));
}
bytes reply_frame(std::vector<field> fields) { return request_frame(std::move(fields), reply_type); }

std::vector<field> good_request() { return {uint_field(7), str_field("echo"), uint_field(250)}; }
std::vector<field> good_reply() { return {uint_field(7), int_field(409), str_field("taken")}; }

// Returns: the bytes msgpack-cxx's packer writes for a frame of `type` whose array of three
// `pack_fields` packs, then `body`.
template <class PackFields>
bytes packed(std::uint8_t type, PackFields pack_fields, const bytes& body = {}) {
    msgpack::sbuffer sb;
    msgpack::packer<msgpack::sbuffer> pk(sb);
    pk.pack_array(3);
    pack_fields(pk);
    bytes f;
    f.reserve(2 + sb.size() + body.size());
    f.push_back(version);
    f.push_back(type);
    f.insert(f.end(), sb.data(), sb.data() + sb.size());
    f.insert(f.end(), body.begin(), body.end());
    return f;
}

const std::uint64_t numbers[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000,
                                 0xffffffff, 0x100000000, UINT64_MAX};
const std::int64_t codes[] = {INT64_MIN, -32601, -33, -32, -1, 0, 1, 0x7f, 0x80, INT64_MAX};
const std::vector<bytes> bodies = {{}, {0xc0}, {0x92, 0x01, 0xa1, 'z'}, bytes(70000, 0x00)};

}  // namespace

// ---- round trips and layout ---------------------------------------------------------------

TEST(rpc_codec, a_request_round_trips_and_is_what_msgpack_cxx_packs_with_the_id_as_a_uint64) {
    for (const auto id : numbers)
        for (const std::size_t len : {1, 31, 32, 128})
            for (const auto timeout : numbers) {
                const std::string method(len, 'm');
                const request_header h{id, method, timeout};
                const bytes body = {0xc3};
                const auto f = encoded_request(h, body);
                ASSERT_EQ(f, packed(request_type, [&](auto& pk) {
                              pk.pack_fix_uint64(id);
                              pk.pack(method);
                              pk.pack(timeout);
                          }, body)) << id << " " << len << " " << timeout;
                const auto m = decode_request(f);
                ASSERT_TRUE(m) << to_string(m.error());
                EXPECT_EQ(m->header, h);
                EXPECT_EQ(bytes(m->body.begin(), m->body.end()), body);
            }
}

TEST(rpc_codec, a_reply_round_trips_and_is_what_msgpack_cxx_packs_every_field_shortest) {
    for (const auto id : numbers)
        for (const auto code : codes)
            for (const std::size_t len : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{255},
                                          std::size_t{256}, max_rpc_message_len}) {
                const std::string message(len, 'e');
                const reply_header h{id, code, message};
                const auto f = encoded_reply(h, bytes{0xc0});
                ASSERT_EQ(f, packed(reply_type, [&](auto& pk) {
                              pk.pack(id);
                              pk.pack(code);
                              pk.pack(message);
                          }, bytes{0xc0})) << id << " " << code << " " << len;
                const auto m = decode_reply(f);
                ASSERT_TRUE(m) << to_string(m.error());
                EXPECT_EQ(m->header, h);
                EXPECT_EQ(bytes(m->body.begin(), m->body.end()), bytes{0xc0});
            }
}

TEST(rpc_codec, the_body_is_what_follows_the_header_viewed_in_place_whatever_its_size) {
    for (const auto& body : bodies) {
        const request_header h{9, "echo", 100};
        const auto f = encoded_request(h, body);
        EXPECT_EQ(f.size(), request_size(h, body.size()));
        const auto m = decode_request(f);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->header, h);
        EXPECT_EQ(m->header.method.data(), reinterpret_cast<const char*>(f.data()) + 13);
        EXPECT_EQ(m->body.data(), f.data() + f.size() - body.size());
        EXPECT_EQ(m->body.size(), body.size());

        const reply_header r{9, -5, "nope"};
        const auto g = encoded_reply(r, body);
        EXPECT_EQ(g.size(), reply_size(r, body.size()));
        const auto n = decode_reply(g);
        ASSERT_TRUE(n);
        EXPECT_EQ(n->header, r);
        EXPECT_EQ(n->body.data(), g.data() + g.size() - body.size());
        EXPECT_EQ(n->body.size(), body.size());
    }
}

// How a caller builds a REQUEST before its reactor picks the id (PROTOCOL.md §10.4): with id 0,
// then the same header again with the id, in place; only the id's 8 bytes at offset 4 change.
TEST(rpc_codec, a_request_encoded_again_in_place_with_its_id_changes_only_the_id) {
    for (const auto id : numbers)
        for (const std::size_t len : {1, 32, 128}) {
            const std::string method(len, 'm');
            const bytes args = {0x92, 0x01, 0xc0};
            auto f = encoded_request({0, method, 1500}, args);
            const auto before = f;
            const auto open = decode_request(f);
            ASSERT_TRUE(open);
            encode_request({id, open->header.method, open->header.timeout_ms}, open->body, f);
            EXPECT_EQ(f, encoded_request({id, method, 1500}, args)) << id;
            for (std::size_t i = 0; i < f.size(); ++i) {
                if (i < 4 || i >= 12) {
                    EXPECT_EQ(f[i], before[i]) << i;
                }
            }
            EXPECT_EQ(read_big_endian(&f[4], 8), id);
        }
}

TEST(rpc_codec, encoders_throw_length_error_over_limits_or_for_a_buffer_of_another_size) {
    bytes out(64, 0x5a);
    EXPECT_THROW(encode_request({1, "", 0}, {}, out), std::length_error);
    const std::string long_method(max_service_len + 1, 'm');
    bytes big(request_size({1, long_method, 0}, 0));
    EXPECT_THROW(encode_request({1, long_method, 0}, {}, big), std::length_error);
    const std::string long_message(max_rpc_message_len + 1, 'e');
    big.resize(reply_size({1, 5, long_message}, 0));
    EXPECT_THROW(encode_reply({1, 5, long_message}, {}, big), std::length_error);
    for (const std::size_t size : {request_size({1, "m", 1}, 0) - 1, request_size({1, "m", 1}, 0) + 1}) {
        bytes wrong(size, 0x5a);
        EXPECT_THROW(encode_request({1, "m", 1}, {}, wrong), std::length_error) << size;
        EXPECT_EQ(wrong, bytes(size, 0x5a)) << "nothing written";
    }
    for (const std::size_t size : {reply_size({1, 0, ""}, 1) - 1, reply_size({1, 0, ""}, 1) + 1}) {
        bytes wrong(size, 0x5a);
        EXPECT_THROW(encode_reply({1, 0, ""}, bytes{0xc0}, wrong), std::length_error) << size;
        EXPECT_EQ(wrong, bytes(size, 0x5a)) << "nothing written";
    }
}

// ---- malformed frames ---------------------------------------------------------------------

TEST(rpc_decode, every_truncated_header_is_refused_as_truncated) {
    auto five = good_reply();
    five.push_back(array_field({map_field(), bin_field(300)}));
    five.push_back(str_field(std::string(40, 'x')));
    const std::vector<bytes> headers = {
        encoded_request({UINT64_MAX, std::string(max_service_len, 'm'), 1u << 20}),
        encoded_request({7, "echo", 0}),
        encoded_reply({std::uint64_t{5} << 32, 0, "ok"}),
        encoded_reply({1u << 20, INT64_MIN, std::string(300, 'e')}),
        reply_frame(five)};
    for (const auto& f : headers)
        for (std::size_t n = 0; n < f.size(); ++n) {
            const std::span<const std::uint8_t> prefix(f.data(), n);
            std::optional<errc> request, reply;
            ASSERT_NO_THROW(request = failure(decode_request(prefix)));
            ASSERT_NO_THROW(reply = failure(decode_reply(prefix)));
            const auto& right = f[1] == request_type ? request : reply;
            ASSERT_TRUE(right) << "prefix " << n << " of " << f.size() << " decodes";
            EXPECT_EQ(*right, errc::truncated) << "prefix " << n << " of " << f.size();
        }
}

TEST(rpc_decode, refuses_another_version_or_type) {
    for (std::uint8_t v : {0, 2, 0xff}) {
        auto f = encoded_request({1, "m", 1}, bytes{0xc0});
        f[0] = v;
        EXPECT_EQ(failure(decode_request(f)), errc::bad_version) << int(v);
        EXPECT_EQ(failure(decode_reply(f)), errc::bad_version) << int(v);
    }
    const auto request = encoded_request({1, "m", 1}, bytes{0xc0});
    const auto reply = encoded_reply({1, 0, ""}, bytes{0xc0});
    EXPECT_EQ(failure(decode_reply(request)), errc::unknown_type);
    EXPECT_EQ(failure(decode_request(reply)), errc::unknown_type);
    for (std::uint8_t t : {0x00, 0x01, 0x12, 0x20, 0xff})
        EXPECT_EQ(failure(decode_request(request_frame(good_request(), t))), errc::unknown_type) << int(t);
}

TEST(rpc_decode, refuses_headers_that_are_not_arrays_of_three) {
    EXPECT_EQ(failure(decode_request(request_frame({uint_field(1), str_field("m")}))), errc::wrong_type);
    EXPECT_EQ(failure(decode_reply(reply_frame({uint_field(1), int_field(0)}))), errc::wrong_type);
    EXPECT_EQ(failure(decode_request(request_frame({}))), errc::wrong_type);
    EXPECT_EQ(failure(decode_request(frame({version, request_type}, map_field()))), errc::wrong_type);
    EXPECT_EQ(failure(decode_reply(frame({version, reply_type}, uint_field(3)))), errc::wrong_type);
    EXPECT_EQ(failure(decode_reply(bytes{version, reply_type, 0xc1})), errc::wrong_type);   // never used
}

TEST(rpc_decode, refuses_mistyped_fields_and_values_out_of_range) {
    const auto request_with = [](std::size_t i, field f) {
        auto fields = good_request();
        fields[i] = std::move(f);
        return failure(decode_request(request_frame(fields)));
    };
    const auto reply_with = [](std::size_t i, field f) {
        auto fields = good_reply();
        fields[i] = std::move(f);
        return failure(decode_reply(reply_frame(fields)));
    };
    for (std::size_t i : {0, 2}) {
        EXPECT_EQ(request_with(i, int_field(-1)), errc::wrong_type) << i;   // negative
        EXPECT_EQ(request_with(i, str_field("1")), errc::wrong_type) << i;
        EXPECT_EQ(request_with(i, float_field(1.5)), errc::wrong_type) << i;
        EXPECT_EQ(request_with(i, nil_field()), errc::wrong_type) << i;
    }
    EXPECT_EQ(request_with(1, bin_field(4)), errc::wrong_type);
    EXPECT_EQ(request_with(1, uint_field(4)), errc::wrong_type);
    EXPECT_EQ(request_with(1, str_field("")), errc::bad_field);
    EXPECT_EQ(reply_with(0, int_field(-1)), errc::wrong_type);
    EXPECT_EQ(reply_with(1, str_field("409")), errc::wrong_type);
    EXPECT_EQ(reply_with(1, bool_field(false)), errc::wrong_type);
    EXPECT_EQ(reply_with(2, nil_field()), errc::wrong_type);
}

TEST(rpc_decode, refuses_over_long_strings_and_headers_as_oversized) {
    // Both frames are well under the header limit: the string's own bound refuses them.
    const auto method = request_frame({uint_field(1), str_field(std::string(max_service_len + 1, 'm')), uint_field(1)});
    EXPECT_EQ(failure(decode_request(method)), errc::oversized);
    const auto message =
        reply_frame({uint_field(1), int_field(1), str_field(std::string(max_rpc_message_len + 1, 'e'))});
    EXPECT_EQ(failure(decode_reply(message)), errc::oversized);
    // A header stretched by an ignored bin to exactly the limit still ends within it; one
    // byte more and it does not, however much body follows.
    const bytes body(100, 0x00);
    const auto padded = [&](std::size_t total) {
        auto fields = good_reply();
        const std::size_t base = reply_frame(fields).size() + 3;   // + bin16 header
        fields.push_back(bin_field(total - base));
        auto f = reply_frame(fields);
        f.insert(f.end(), body.begin(), body.end());
        return f;
    };
    ASSERT_EQ(padded(max_rpc_header_size).size(), max_rpc_header_size + body.size());
    const auto at_limit = decode_reply(padded(max_rpc_header_size));
    ASSERT_TRUE(at_limit);
    EXPECT_EQ(at_limit->body.size(), body.size());
    EXPECT_EQ(failure(decode_reply(padded(max_rpc_header_size + 1))), errc::oversized);
}
