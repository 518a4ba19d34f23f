// SPDX-License-Identifier: MPL-2.0
// rpc codec tests: request and reply headers round trip, are read in place exactly as the
// object-tree decoder read them, and every malformed frame is refused without throwing.
#include "protocol/rpc.hpp"

#include "protocol/msgpack_io.hpp"
#include "rpc_reference.hpp"
#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <stdexcept>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

template <class T>
std::optional<T> ok_or_nullopt(const result<T>& r) {
    if (!r) return std::nullopt;
    return *r;
}

bytes request_frame(std::vector<field> fields, std::uint8_t type = request_type) {
    return frame({version, type}, array_field(std::move(fields)));
}
bytes reply_frame(std::vector<field> fields) {
    return request_frame(std::move(fields), reply_type);
}

std::vector<field> good_request() { return {uint_field(7), str_field("echo"), uint_field(250)}; }
std::vector<field> good_reply() { return {uint_field(7), int_field(409), str_field("taken")}; }

// Returns: a frame of `type` whose body is `body`, written byte by byte.
bytes raw(std::uint8_t type, std::initializer_list<int> body) {
    bytes f = {version, type};
    for (int b : body) f.push_back(static_cast<std::uint8_t>(b));
    return f;
}
bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

const std::uint64_t edge_ids[] = {0, 1, std::uint64_t{1} << 32, UINT64_MAX};

}  // namespace

TEST(rpc_codec, request_round_trips_edge_ids_methods_and_timeouts) {
    for (std::uint64_t id : edge_ids)
        for (const auto& method : {std::string("m"), std::string(max_service_len, 'm')})
            for (std::uint64_t timeout : {std::uint64_t{0}, std::uint64_t{1500}, UINT64_MAX}) {
                const request_header h{id, method, timeout};
                const auto f = encode_request_header(h);
                ASSERT_GE(f.size(), 3u);
                EXPECT_EQ(f[0], version);
                EXPECT_EQ(f[1], request_type);
                auto r = decode_request_header(f);
                ASSERT_TRUE(r) << id << " " << method.size() << ": " << to_string(r.error());
                EXPECT_EQ(*r, h);
                EXPECT_EQ(tree_request(f), h);   // the same bytes the old encoder wrote
            }
}

TEST(rpc_codec, request_with_the_id_set_last_decodes_like_any_other) {
    for (std::uint64_t id : edge_ids)
        for (const std::size_t length : {std::size_t{1}, std::size_t{31}, std::size_t{32}, max_service_len}) {
            const std::string method(length, 'm');
            std::vector<std::uint8_t> f;
            append_request_header_open_id(method, 1500, f);
            const std::vector<std::uint8_t> body = {0x92, 0x01, 0xc0};
            f.insert(f.end(), body.begin(), body.end());
            set_request_id(f, id);
            EXPECT_EQ(open_request_method(f), method);   // what the reactor reads to route it
            // Cut inside the method: nothing, never a read past the end.
            EXPECT_EQ(open_request_method(std::span(f).first(request_id_offset + 8 + length)), "");
            const auto m = decode_request(f);
            ASSERT_TRUE(m) << id << ": " << to_string(m.error());
            EXPECT_EQ(m->header, (request_header{id, method, 1500}));
            EXPECT_EQ(std::vector<std::uint8_t>(m->body.begin(), m->body.end()), body);
            EXPECT_EQ(tree_request(std::vector<std::uint8_t>(f.begin(), f.end() - 3)),
                      (request_header{id, method, 1500}));   // as msgpack-cxx reads it too
        }
    std::vector<std::uint8_t> f;
    EXPECT_THROW(append_request_header_open_id("", 0, f), std::length_error);
    EXPECT_THROW(append_request_header_open_id(std::string(max_service_len + 1, 'm'), 0, f),
                 std::length_error);
}

// A REQUEST as a caller builds it, byte for byte: the id a uint 64 whatever its value, its 8
// bytes written last at request_id_offset (PROTOCOL.md §10.4).
TEST(rpc_codec, request_with_the_id_set_last_packs_it_as_a_uint64_at_offset_4) {
    std::vector<std::uint8_t> f;
    append_request_header_open_id("echo", 500, f);
    f.insert(f.end(), {0xa2, 'h', 'i'});
    set_request_id(f, 7);
    const std::vector<std::uint8_t> expected = {
        0x01, 0x10, 0x93, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x07, 0xa4, 'e', 'c', 'h', 'o',
        0xcd, 0x01, 0xf4, 0xa2, 'h', 'i'};
    EXPECT_EQ(f, expected);
}

TEST(rpc_codec, reply_round_trips_edge_codes_and_messages) {
    for (std::uint64_t id : edge_ids)
        for (std::int64_t code : {std::int64_t{0}, std::int64_t{-32601}, std::int64_t{409},
                                  std::int64_t{INT64_MIN}, std::int64_t{INT64_MAX}})
            for (const auto& message : {std::string(), std::string(max_rpc_message_len, 'e')}) {
                const reply_header h{id, code, message};
                const auto f = encode_reply_header(h);
                EXPECT_EQ(f[1], reply_type);
                auto r = decode_reply_header(f);
                ASSERT_TRUE(r) << id << " " << code << ": " << to_string(r.error());
                EXPECT_EQ(*r, h);
            }
}

TEST(rpc_encode, throws_length_error_over_limits) {
    EXPECT_THROW(encode_request_header({1, "", 0}), std::length_error);
    EXPECT_THROW(encode_request_header({1, std::string(max_service_len + 1, 'm'), 0}),
                 std::length_error);
    EXPECT_THROW(encode_reply_header({1, 5, std::string(max_rpc_message_len + 1, 'e')}),
                 std::length_error);
}

TEST(rpc_decode, ignores_extra_trailing_elements) {
    auto four = good_request();
    four.push_back(str_field("future"));
    EXPECT_EQ(ok_or_nullopt(decode_request_header(request_frame(four))),
              (request_header{7, "echo", 250}));
    auto five = good_reply();
    five.push_back(map_field());
    five.push_back(array_field({map_field(), array_field({nil_field(), bin_field(3)})}));
    EXPECT_EQ(ok_or_nullopt(decode_reply_header(reply_frame(five))),
              (reply_header{7, 409, "taken"}));
    five.insert(five.begin() + 3, map_field());   // six, a map before the array
    EXPECT_TRUE(decode_reply_header(reply_frame(five)));
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
        const request_header want{value, "m", value};
        EXPECT_EQ(tree_request(f), want) << value;
        EXPECT_EQ(ok_or_nullopt(decode_request_header(f)), want) << value;
        // The same numbers as id and code: [n, n, ""].
        const auto reply = cat({{version, reply_type, 0x93}, n, n, {0xa0}});
        EXPECT_EQ(ok_or_nullopt(decode_reply_header(reply)),
                  (reply_header{value, static_cast<std::int64_t>(value), ""})) << value;
    }
    // Negative in a signed format: no id or timeout, but a code.
    for (const auto& f : {raw(request_type, {0x93, 0xd0, 0xff, 0xa1, 'm', 0}),
                          raw(request_type, {0x93, 0, 0xa1, 'm', 0xd1, 0xff, 0})})
        EXPECT_EQ(failure(decode_request_header(f)), errc::wrong_type);
    EXPECT_EQ(ok_or_nullopt(decode_reply_header(raw(reply_type, {0x93, 0, 0xd1, 0xff, 0, 0xa0}))),
              (reply_header{0, -256, ""}));
    // A code over INT64_MAX (uint64) fits no int64.
    EXPECT_EQ(failure(decode_reply_header(
                  raw(reply_type, {0x93, 0, 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xa0}))),
              errc::wrong_type);
}

TEST(rpc_decode, rejects_wrong_version_and_type) {
    for (std::uint8_t v : {0, 2, 0xff}) {
        auto f = encode_request_header({1, "m", 1});
        f[0] = v;
        EXPECT_EQ(failure(decode_request_header(f)), errc::bad_version) << int(v);
        EXPECT_EQ(failure(decode_reply_header(f)), errc::bad_version) << int(v);
    }
    const auto request = encode_request_header({1, "m", 1});
    const auto reply = encode_reply_header({1, 0, ""});
    EXPECT_EQ(failure(decode_reply_header(request)), errc::unknown_type);
    EXPECT_EQ(failure(decode_request_header(reply)), errc::unknown_type);
    for (std::uint8_t t : {0x00, 0x01, 0x12, 0xff})
        EXPECT_EQ(failure(decode_request_header(request_frame(good_request(), t))),
                  errc::unknown_type) << int(t);
}

TEST(rpc_decode, rejects_bodies_that_are_not_arrays_of_three) {
    EXPECT_EQ(failure(decode_request_header(request_frame({uint_field(1), str_field("m")}))),
              errc::wrong_type);
    EXPECT_EQ(failure(decode_reply_header(reply_frame({uint_field(1), int_field(0)}))),
              errc::wrong_type);
    EXPECT_EQ(failure(decode_request_header(request_frame({}))), errc::wrong_type);
    EXPECT_EQ(failure(decode_request_header(frame({version, request_type}, map_field()))),
              errc::wrong_type);
    EXPECT_EQ(failure(decode_reply_header(frame({version, reply_type}, uint_field(3)))),
              errc::wrong_type);
}

TEST(rpc_decode, rejects_wrong_field_types_and_values) {
    const auto request_with = [](std::size_t i, field f) {
        auto fields = good_request();
        fields[i] = std::move(f);
        return failure(decode_request_header(request_frame(fields)));
    };
    const auto reply_with = [](std::size_t i, field f) {
        auto fields = good_reply();
        fields[i] = std::move(f);
        return failure(decode_reply_header(reply_frame(fields)));
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

TEST(rpc_decode, rejects_over_long_strings_and_frames_as_oversized) {
    // Both frames are well under the frame limit: the string's own bound refuses them.
    const auto method =
        request_frame({uint_field(1), str_field(std::string(129, 'm')), uint_field(1)});
    EXPECT_EQ(failure(decode_request_header(method)), errc::oversized);
    const auto message = reply_frame(
        {uint_field(1), int_field(1), str_field(std::string(max_rpc_message_len + 1, 'e'))});
    EXPECT_EQ(failure(decode_reply_header(message)), errc::oversized);
    // A valid reply padded with an ignored bin to exactly the frame limit, then one byte more.
    constexpr std::size_t limit = 2 + max_service_len + max_rpc_message_len + 64;
    const auto padded = [](std::size_t total) {
        auto fields = good_reply();
        const std::size_t base = reply_frame(fields).size() + 3;   // + bin16 header
        fields.push_back(bin_field(total - base));
        return reply_frame(fields);
    };
    ASSERT_EQ(padded(limit).size(), limit);
    EXPECT_TRUE(decode_reply_header(padded(limit)));
    EXPECT_EQ(failure(decode_reply_header(padded(limit + 1))), errc::oversized);
}

TEST(rpc_decode, rejects_trailing_bytes_after_the_array) {
    auto request = encode_request_header({1, "m", 1});
    request.push_back(0xc0);
    EXPECT_EQ(failure(decode_request_header(request)), errc::bad_msgpack);
    auto reply = encode_reply_header({1, 0, ""});
    reply.push_back(0x00);
    EXPECT_EQ(failure(decode_reply_header(reply)), errc::bad_msgpack);
}

TEST(rpc_decode, every_truncated_prefix_is_refused_as_truncated) {
    auto five = good_reply();
    five.push_back(array_field({map_field(), bin_field(300)}));
    five.push_back(str_field(std::string(40, 'x')));
    const std::vector<bytes> frames = {
        encode_request_header({UINT64_MAX, std::string(max_service_len, 'm'), 1u << 20}),
        // As nodes send them: read by the short path (see canonical_frames_... below).
        encode_request_header({UINT64_MAX, "echo", 1u << 20}),
        encode_reply_header({std::uint64_t{5} << 32, 0, "ok"}),
        encode_reply_header({1u << 20, INT64_MIN, std::string(300, 'e')}),
        reply_frame(five)};
    for (const auto& f : frames)
        for (std::size_t n = 0; n < f.size(); ++n) {
            const std::span<const std::uint8_t> prefix(f.data(), n);
            std::optional<errc> request, reply;
            ASSERT_NO_THROW(request = failure(decode_request_header(prefix)));
            ASSERT_NO_THROW(reply = failure(decode_reply_header(prefix)));
            const auto& right = f[1] == request_type ? request : reply;
            ASSERT_TRUE(right) << "prefix " << n << " of " << f.size() << " decodes";
            EXPECT_EQ(*right, errc::truncated) << "prefix " << n << " of " << f.size();
        }
}

TEST(rpc_decode, mutated_frames_decode_as_the_object_tree_decoder_decodes_them) {
    // Any byte changed, inserted or dropped: accepted exactly when the reference accepts,
    // with the same header, and what is accepted re-encodes to itself.
    const auto base = request_frame({uint_field(300), str_field("stock.reserve"), uint_field(70000),
                                     array_field({map_field(), int_field(-3)})});
    const auto accepted = expect_mutations_as_reference(
        base, 3, 20261123, [](const bytes& f) { return decode_request_header(f); }, tree_request,
        [](const request_header& h) {
            EXPECT_EQ(ok_or_nullopt(decode_request_header(encode_request_header(h))), h);
        });
    EXPECT_GT(accepted, 100);   // the comparison saw both outcomes
}

// ---- whole frames: the header, then the body -------------------------------------------

TEST(rpc_message, the_body_is_what_follows_the_header_viewed_in_place) {
    const bytes args = {0x92, 0x01, 0xa1, 'z'};
    const auto frame = encode_request({9, "echo", 100}, args);
    const auto header = encode_request_header({9, "echo", 100});
    ASSERT_EQ(frame.size(), header.size() + args.size());
    const auto m = decode_request(frame);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->header, (request_header{9, "echo", 100}));
    EXPECT_EQ(bytes(m->body.begin(), m->body.end()), args);
    EXPECT_EQ(m->body.data(), frame.data() + header.size());

    const auto reply = encode_reply({9, -5, "nope"}, bytes{0xc0});
    const auto r = decode_reply(reply);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header, (reply_header{9, -5, "nope"}));
    EXPECT_EQ(bytes(r->body.begin(), r->body.end()), bytes{0xc0});
    // Nothing after the header is a message with an empty body: the receiver refuses it.
    const auto bare = decode_request(header);
    ASSERT_TRUE(bare);
    EXPECT_TRUE(bare->body.empty());
}

TEST(rpc_message, extra_header_fields_are_skipped_and_the_body_starts_after_them) {
    auto fields = good_request();
    fields.push_back(array_field({map_field(), bin_field(3)}));
    auto frame = request_frame(fields);
    const auto header_size = frame.size();
    frame.push_back(0x2a);
    const auto m = decode_request(frame);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->header, (request_header{7, "echo", 250}));
    EXPECT_EQ(m->body.data(), frame.data() + header_size);
    EXPECT_EQ(m->body.size(), 1u);
}

TEST(rpc_message, a_body_of_any_size_is_read_but_a_header_past_the_limit_is_oversized) {
    const bytes big(4 * 1024 * 1024, 0x00);   // the size of the body does not matter here
    const auto m = decode_reply(encode_reply({1, 0, ""}, big));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->body.size(), big.size());
    // A header padded with an ignored bin to exactly the limit still ends within it; one
    // byte more and it does not, however much body follows.
    const auto padded = [&](std::size_t total) {
        auto fields = good_reply();
        const std::size_t base = reply_frame(fields).size() + 3;   // + bin16 header
        fields.push_back(bin_field(total - base));
        auto frame = reply_frame(fields);
        frame.insert(frame.end(), big.begin(), big.begin() + 100);
        return frame;
    };
    const auto at_limit = decode_reply(padded(max_rpc_header_size));
    ASSERT_TRUE(at_limit);
    EXPECT_EQ(at_limit->body.size(), 100u);
    EXPECT_EQ(failure(decode_reply(padded(max_rpc_header_size + 1))), errc::oversized);
}

TEST(rpc_message, a_bad_header_fails_as_the_header_decoder_fails_it) {
    const std::vector<bytes> bad = {
        {0x02, 0x10, 0x93, 0x01, 0xa1, 'm', 0x01},           // another version
        {0x01, 0x11, 0x93, 0x01, 0xa1, 'm', 0x01},           // a reply's type
        request_frame({uint_field(1), str_field(""), uint_field(1)}),
        request_frame({uint_field(1), str_field("m")}),
        request_frame({str_field("1"), str_field("m"), uint_field(1)}),
    };
    for (const auto& header : bad) {
        auto frame = header;
        frame.push_back(0xc0);
        EXPECT_EQ(failure(decode_request(frame)), failure(decode_request_header(header)))
            << ::testing::PrintToString(header);
        EXPECT_TRUE(failure(decode_request(frame)));
    }
}
