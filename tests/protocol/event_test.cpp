// SPDX-License-Identifier: MPL-2.0
// event codec tests: body round trip, every truncation, odd encodings, topics, payloads.
#include "protocol/event.hpp"
#include "protocol/msgpack_io.hpp"
#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <random>

namespace zmesh::protocol {
namespace {

using test::array_field;
using test::bin_field;
using test::bytes;
using test::field;
using test::frame;
using test::str_field;
using test::uint_field;

node_id some_id() {
    node_id::bytes_type b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i + 1);
    return node_id(b);
}

bytes header_bytes(const event_header& h) {
    const auto a = encode_event_header(h);
    return bytes(a.begin(), a.end());
}

errc error_of(const bytes& b) {
    const auto r = decode_event(b);
    return r ? static_cast<errc>(-1) : r.error();
}

bytes head() { return {version, event_type}; }

TEST(event_header, round_trips_smallest_and_largest_values) {
    for (const event_header h : {event_header{some_id(), 1, 0},
                                 event_header{some_id(), UINT64_MAX, UINT64_MAX},
                                 event_header{some_id(), 12345, 1700000000000000}}) {
        auto b = header_bytes(h);
        ASSERT_EQ(b.size(), event_header_size);
        b.push_back(0x2a);   // the payload follows in the same frame
        const auto r = decode_event(b);
        ASSERT_TRUE(r) << to_string(r.error());
        EXPECT_EQ(r->header, h);
        EXPECT_EQ(bytes(r->payload.begin(), r->payload.end()), bytes{0x2a});
    }
}

TEST(event_header, accepts_compact_integers_and_extra_fields) {
    // Another implementation may pack seq and time compactly and add fields later.
    auto b = frame(head(), array_field({bin_field(16, 7), uint_field(5), uint_field(300),
                                        array_field({str_field("new"), uint_field(1)})}));
    b.push_back(0xc0);   // payload: nil
    const auto r = decode_event(b);
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->header.seq, 5u);
    EXPECT_EQ(r->header.sent_us, 300u);
    EXPECT_EQ(bytes(r->payload.begin(), r->payload.end()), bytes{0xc0});   // after the extras
}

TEST(event_header, every_truncation_is_refused) {
    const auto b = header_bytes({some_id(), 99, 1234});
    for (std::size_t n = 0; n < b.size(); ++n) {
        const bytes cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_FALSE(decode_event(cut)) << n;
    }
}

TEST(event_header, rejects_wrong_version_type_and_shapes) {
    auto b = header_bytes({some_id(), 1, 1});
    b[0] = 2;
    EXPECT_EQ(error_of(b), errc::bad_version);
    b = header_bytes({some_id(), 1, 1});
    b[1] = 0x01;
    EXPECT_EQ(error_of(b), errc::unknown_type);
    EXPECT_EQ(error_of(frame(head(), array_field({bin_field(16), uint_field(1)}))),
              errc::wrong_type);                                        // too few fields
    EXPECT_EQ(error_of(frame(head(), array_field({bin_field(15), uint_field(1), uint_field(1)}))),
              errc::wrong_type);                                        // short id
    EXPECT_EQ(error_of(frame(head(), array_field({str_field("x"), uint_field(1), uint_field(1)}))),
              errc::wrong_type);
    EXPECT_EQ(error_of(frame(head(), array_field({bin_field(16), str_field("1"), uint_field(1)}))),
              errc::wrong_type);
    EXPECT_EQ(error_of(frame(head(), array_field({bin_field(16, 0), uint_field(1), uint_field(1)}))),
              errc::bad_field);                                         // no sender
    EXPECT_EQ(error_of(frame(head(), array_field({bin_field(16), uint_field(0), uint_field(1)}))),
              errc::bad_field);                                         // seq starts at 1
}

TEST(event_header, payload_is_every_byte_after_the_header_and_may_be_empty) {
    auto b = header_bytes({some_id(), 1, 1});
    auto r = decode_event(b);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->payload.empty());   // the node then refuses it as not msgpack
    const bytes payload(100000, 0x5a);   // decoding never walks the payload
    b.insert(b.end(), payload.begin(), payload.end());
    r = decode_event(b);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->payload.size(), payload.size());
}

TEST(event_header, extra_fields_past_the_header_limit_are_refused) {
    auto b = frame(head(), array_field({bin_field(16, 7), uint_field(1), uint_field(1),
                                        str_field(std::string(max_event_header_size, 'x'))}));
    b.push_back(0x01);
    EXPECT_EQ(error_of(b), errc::oversized);
}

TEST(event_header, random_bytes_never_throw) {
    std::mt19937 rng(4242);
    std::uniform_int_distribution<std::size_t> len(0, 80);
    for (int i = 0; i < 20000; ++i) {
        bytes b = head();
        const auto body = test::random_bytes(rng, len(rng));
        b.insert(b.end(), body.begin(), body.end());
        EXPECT_NO_THROW((void)decode_event(b));
    }
}

TEST(event_topic, must_be_short_and_free_of_nul) {
    EXPECT_FALSE(check_topic("orders.created"));
    EXPECT_FALSE(check_topic(std::string(max_topic_len, 't')));
    EXPECT_EQ(check_topic(""), errc::bad_field);
    EXPECT_EQ(check_topic(std::string(max_topic_len + 1, 't')), errc::oversized);
    EXPECT_EQ(check_topic(std::string_view("a\0b", 3)), errc::bad_field);
}

TEST(event_payload, must_be_exactly_one_msgpack_object_within_size) {
    EXPECT_FALSE(check_payload(test::pack(str_field("hello")), 100));
    EXPECT_FALSE(check_payload(test::pack(array_field({uint_field(1), str_field("x")})), 100));
    EXPECT_EQ(check_payload({}, 100), errc::truncated);
    EXPECT_EQ(check_payload(bytes{0xc1}, 100), errc::bad_msgpack);          // never used
    EXPECT_EQ(check_payload(bytes{0x92, 0x01}, 100), errc::truncated);      // array short
    EXPECT_EQ(check_payload(bytes{0x01, 0x02}, 100), errc::bad_msgpack);    // two objects
    EXPECT_EQ(check_payload(test::pack(str_field(std::string(200, 'x'))), 100), errc::oversized);
}

TEST(event_payload, deep_nesting_is_refused_without_recursion) {
    bytes deep(100000, 0x91);   // [[[[...]]]]
    deep.push_back(0x01);
    EXPECT_EQ(check_payload(deep, 1 << 20), errc::oversized);
    bytes ok(64, 0x91);
    ok.push_back(0x01);
    EXPECT_FALSE(check_payload(ok, 1 << 20));
}

// The frame of revision 4: topic, 00, body, laid out as PROTOCOL.md §13.4 shows (whose bytes
// protocol_md_test holds to the encoder).
TEST(event_frame, lays_out_topic_terminator_header_and_payload) {
    const bytes payload = {0x81, 0xa2, 'i', 'd', 0x2a};   // {"id": 42}
    const event_header h{some_id(), 1, 1700000000000000};
    const auto f = encode_event_frame("orders.created", h, payload);
    ASSERT_EQ(f.size(), event_frame_size(14, payload.size()));
    EXPECT_EQ(f.size(), 59u);
    EXPECT_EQ(bytes(f.begin(), f.begin() + 15), (bytes{'o', 'r', 'd', 'e', 'r', 's', '.', 'c',
                                                      'r', 'e', 'a', 't', 'e', 'd', 0x00}));
    EXPECT_EQ(bytes(f.begin() + 15, f.begin() + 15 + event_header_size), header_bytes(h));
    EXPECT_EQ(bytes(f.end() - 5, f.end()), payload);
    const auto r = decode_event_frame(f);
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->topic, "orders.created");
    EXPECT_EQ(r->header, h);
    EXPECT_EQ(bytes(r->payload.begin(), r->payload.end()), payload);
}

TEST(event_frame, topic_must_be_1_to_255_bytes_and_end_with_00) {
    const bytes body = [] {
        auto b = header_bytes({some_id(), 1, 1});
        b.push_back(0x01);
        return b;
    }();
    const auto with_topic = [&](const bytes& t) {
        bytes f = t;
        f.push_back(0x00);
        f.insert(f.end(), body.begin(), body.end());
        return f;
    };
    const auto frame_error = [](const bytes& f) {
        const auto r = decode_event_frame(f);
        return r ? static_cast<errc>(-1) : r.error();
    };
    EXPECT_TRUE(decode_event_frame(with_topic(bytes(1, 't'))));
    EXPECT_TRUE(decode_event_frame(with_topic(bytes(255, 't'))));
    EXPECT_EQ(frame_error(with_topic({})), errc::bad_field);                // empty
    EXPECT_EQ(frame_error(with_topic(bytes(256, 't'))), errc::oversized);   // no 00 in 256
    EXPECT_EQ(frame_error(bytes(10, 't')), errc::truncated);               // no 00 at all
    EXPECT_EQ(frame_error({}), errc::truncated);
    // After the topic, the body's own errors, the version first (frames_bad_version).
    auto foreign = with_topic({'t'});
    foreign[2] = 2;
    EXPECT_EQ(frame_error(foreign), errc::bad_version);
    EXPECT_EQ(frame_error(bytes{'t', 0x00}), errc::truncated);
    // Every truncation of a valid frame is refused, none throws.
    const auto f = with_topic({'a', 'b'});
    for (std::size_t n = 0; n < f.size() - 1; ++n)
        EXPECT_FALSE(decode_event_frame(std::span(f).first(n))) << n;
}

TEST(check_msgpack, counts_objects) {
    EXPECT_FALSE(check_msgpack(bytes{0x01, 0x02}, 2));
    EXPECT_EQ(check_msgpack(bytes{0x01}, 2), errc::truncated);
    EXPECT_EQ(check_msgpack(bytes{0x01, 0x02, 0x03}, 2), errc::bad_msgpack);
}

}  // namespace
}  // namespace zmesh::protocol
