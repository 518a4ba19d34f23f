// SPDX-License-Identifier: MPL-2.0
// stream codec tests: CONSUME, ANSWER, DELIVER, SETTLE and END round trip through their one
// encoder and one decoder, with every field at its bounds; the encoders write the golden
// frames of PROTOCOL.md §14 byte for byte; malformed frames (truncated, of another version or
// type, mistyped, out of range, oversized) are refused without throwing; fields a later
// revision adds are ignored.
#include "protocol/stream.hpp"

#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <sstream>
#include <stdexcept>
#include <string>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

bytes from_hex(const std::string& text) {
    std::istringstream in(text);
    bytes out;
    for (std::string word; in >> word;) out.push_back(static_cast<std::uint8_t>(std::stoul(word, nullptr, 16)));
    return out;
}

const bytes id_payload = {0x81, 0xa2, 'i', 'd', 0x2a};   // {"id": 42}

stream_consume sample_consume() { return {"orders", "billing", stream_start::first, 0, 30'000, 5, {1000, 5000}, 256}; }
stream_answer sample_answer() { return {"orders", "billing", answer_ok, 1, 42, 17}; }
stream_deliver sample_deliver() { return {"orders", "billing", 18, 1, 1'700'000'000'000'000, "c-7", id_payload}; }
stream_settle sample_settle() {
    return {"orders", "billing", {{18, 1, settle_kind::ack, 0, ""}, {19, 2, settle_kind::nak, 500, "db down"}}};
}
stream_end sample_end() { return {"orders", "billing"}; }

bool same(const stream_deliver& a, const stream_deliver& b) {
    return a.stream == b.stream && a.consumer == b.consumer && a.seq == b.seq && a.attempt == b.attempt &&
           a.time_us == b.time_us && a.key == b.key &&
           std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
}

// The frames of §14.8, as its hex. "orders" is a6 6f 72 64 65 72 73, "billing" a7 62 69 6c 6c 69 6e 67.
const std::string names_hex = "a6 6f 72 64 65 72 73 a7 62 69 6c 6c 69 6e 67";
const bytes golden_consume = from_hex("01 30 99 " + names_hex + " 01 00 cd 75 30 05 92 cd 03 e8 cd 13 88 cd 01 00 00");
const bytes golden_answer = from_hex("01 31 97 " + names_hex + " 00 01 2a 11 00");
const bytes golden_deliver =
    from_hex("01 32 97 " + names_hex + " 12 01 cf 00 06 0a 24 18 1e 40 00 a3 63 2d 37 c4 05 81 a2 69 64 2a");
const bytes golden_settle =
    from_hex("01 33 93 " + names_hex + " 92 95 12 01 00 00 a0 95 13 02 01 cd 01 f4 a7 64 62 20 64 6f 77 6e");
const bytes golden_end = from_hex("01 34 92 " + names_hex);

// Every golden frame with its decoder, as "does it decode, and with which error".
std::optional<errc> decode_any(std::uint8_t type, std::span<const std::uint8_t> f) {
    switch (type) {
        case stream_consume_type: return failure(decode_stream_consume(f));
        case stream_answer_type: return failure(decode_stream_answer(f));
        case stream_deliver_type: return failure(decode_stream_deliver(f));
        case stream_settle_type: return failure(decode_stream_settle(f));
        default: return failure(decode_stream_end(f));
    }
}
const std::vector<bytes> goldens = {golden_consume, golden_answer, golden_deliver, golden_settle, golden_end};

bytes frame_of(std::uint8_t type, std::vector<field> fields) { return frame({version, type}, array_field(std::move(fields))); }
std::vector<field> names() { return {str_field("orders"), str_field("billing")}; }
std::vector<field> with_names(std::vector<field> rest) {
    auto f = names();
    f.insert(f.end(), rest.begin(), rest.end());
    return f;
}
field uints(std::vector<std::uint64_t> values) {
    std::vector<field> f;
    for (const auto v : values) f.push_back(uint_field(v));
    return array_field(std::move(f));
}
bytes consume_frame(std::uint64_t start, std::uint64_t ack_wait, std::uint64_t deliveries, field backoff,
                    std::uint64_t in_flight) {
    return frame_of(stream_consume_type, with_names({uint_field(start), uint_field(0), uint_field(ack_wait),
                                                     uint_field(deliveries), std::move(backoff), uint_field(in_flight)}));
}
bytes deliver_frame(std::uint64_t seq, std::uint64_t attempt, field key, field payload) {
    return frame_of(stream_deliver_type,
                    with_names({uint_field(seq), uint_field(attempt), uint_field(5), std::move(key), std::move(payload)}));
}
field entry(std::uint64_t seq, std::uint64_t attempt, std::uint64_t kind, std::uint64_t delay, std::string error,
            std::vector<field> extra = {}) {
    std::vector<field> f = {uint_field(seq), uint_field(attempt), uint_field(kind), uint_field(delay), str_field(error)};
    f.insert(f.end(), extra.begin(), extra.end());
    return array_field(std::move(f));
}
bytes settle_frame(std::vector<field> entries) {
    return frame_of(stream_settle_type, with_names({array_field(std::move(entries))}));
}

}  // namespace

// ---- golden frames and round trips --------------------------------------------------------

TEST(stream_codec, each_encoder_writes_its_golden_frame_and_each_decoder_reads_it_back) {
    EXPECT_EQ(encode_stream_frame(sample_consume()), golden_consume);
    EXPECT_EQ(encode_stream_frame(sample_answer()), golden_answer);
    EXPECT_EQ(encode_stream_frame(sample_deliver()), golden_deliver);
    EXPECT_EQ(encode_stream_frame(sample_settle()), golden_settle);
    EXPECT_EQ(encode_stream_frame(sample_end()), golden_end);

    EXPECT_EQ(*decode_stream_consume(golden_consume), sample_consume());
    EXPECT_EQ(*decode_stream_answer(golden_answer), sample_answer());
    EXPECT_TRUE(same(*decode_stream_deliver(golden_deliver), sample_deliver()));
    EXPECT_EQ(*decode_stream_settle(golden_settle), sample_settle());
    EXPECT_EQ(*decode_stream_end(golden_end), sample_end());
}

TEST(stream_codec, a_deliver_is_decoded_as_views_into_its_frame) {
    const auto d = decode_stream_deliver(golden_deliver);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->payload.data(), golden_deliver.data() + golden_deliver.size() - id_payload.size());
    EXPECT_EQ(d->stream.data(), reinterpret_cast<const char*>(golden_deliver.data()) + 4);
}

TEST(stream_codec, every_field_round_trips_at_its_bounds) {
    const std::string shortest = "s", longest(max_stream_name_len, 'n');
    for (const auto& name : {shortest, longest}) {
        stream_consume c{name, name, stream_start::time, UINT64_MAX, max_stream_wait_ms,
                         static_cast<std::uint32_t>(max_stream_deliveries), std::vector<std::uint64_t>(max_backoff_steps, max_stream_wait_ms),
                         static_cast<std::uint32_t>(max_stream_in_flight)};
        EXPECT_EQ(*decode_stream_consume(encode_stream_frame(c)), c);
        c = {name, name, stream_start::new_records, 0, 1, 1, {}, 1};
        EXPECT_EQ(*decode_stream_consume(encode_stream_frame(c)), c);

        for (const std::uint64_t n : {std::uint64_t{0}, std::uint64_t{0x80}, UINT64_MAX}) {
            const stream_answer a{name, name, 255, n, n, n};
            EXPECT_EQ(*decode_stream_answer(encode_stream_frame(a)), a);
        }

        const std::string key(max_record_key_len, 'k');
        const bytes big(default_max_event_size, 0x5a);
        for (const auto& d : {stream_deliver{name, name, 1, 1, 0, "", {}},
                              stream_deliver{name, name, UINT64_MAX, UINT32_MAX, UINT64_MAX, key, big}}) {
            const auto f = encode_stream_frame(d);
            EXPECT_EQ(f.size(), stream_frame_size(d));
            const auto back = decode_stream_deliver(f);
            ASSERT_TRUE(back) << to_string(back.error());
            EXPECT_TRUE(same(*back, d));
        }

        stream_settle s{name, name, {}};
        const std::string error(max_settle_error_len, 'e');
        for (std::size_t i = 0; i < max_settle_batch; ++i)
            s.entries.push_back({UINT64_MAX - i, UINT32_MAX, static_cast<settle_kind>(i % 4), max_stream_wait_ms, error});
        const auto f = encode_stream_frame(s);
        EXPECT_LE(f.size(), max_control_size);
        EXPECT_EQ(*decode_stream_settle(f), s);
        s.entries = {{1, 1, settle_kind::ack, 0, ""}};
        EXPECT_EQ(*decode_stream_settle(encode_stream_frame(s)), s);

        EXPECT_EQ(*decode_stream_end(encode_stream_frame(stream_end{name, name})), (stream_end{name, name}));
    }
}

TEST(stream_codec, the_encoders_refuse_what_the_decoders_would) {
    const std::string too_long(max_stream_name_len + 1, 'n');
    EXPECT_THROW(encode_stream_frame(stream_end{"", "c"}), std::length_error);
    EXPECT_THROW(encode_stream_frame(stream_end{"s", too_long}), std::length_error);
    auto c = sample_consume();
    c.ack_wait_ms = 0;
    EXPECT_THROW(encode_stream_frame(c), std::length_error);
    c = sample_consume();
    c.backoff_ms.assign(max_backoff_steps + 1, 0);
    EXPECT_THROW(encode_stream_frame(c), std::length_error);
    c = sample_consume();
    c.max_in_flight = 0;
    EXPECT_THROW(encode_stream_frame(c), std::length_error);
    auto d = sample_deliver();
    d.attempt = 0;
    EXPECT_THROW(encode_stream_frame(d), std::length_error);
    d = sample_deliver();
    const std::string long_key(max_record_key_len + 1, 'k');
    d.key = long_key;
    EXPECT_THROW(encode_stream_frame(d), std::length_error);
    auto s = sample_settle();
    s.entries.clear();
    EXPECT_THROW(encode_stream_frame(s), std::length_error);
    s = sample_settle();
    const std::string long_error(max_settle_error_len + 1, 'e');
    s.entries[1].error = long_error;
    EXPECT_THROW(encode_stream_frame(s), std::length_error);
    s = sample_settle();
    s.entries.resize(max_settle_batch + 1, s.entries[0]);
    EXPECT_THROW(encode_stream_frame(s), std::length_error);
    bytes wrong_size(stream_frame_size(sample_end()) + 1);
    EXPECT_THROW(encode_stream(sample_end(), wrong_size), std::length_error);
}

// ---- malformed input ----------------------------------------------------------------------

TEST(stream_codec, every_truncated_prefix_of_every_frame_is_refused) {
    for (const auto& g : goldens)
        for (std::size_t n = 0; n < g.size(); ++n) {
            const auto e = decode_any(g[1], std::span(g).first(n));
            ASSERT_TRUE(e) << "type " << int(g[1]) << " prefix " << n;
            EXPECT_TRUE(*e == errc::truncated || *e == errc::wrong_type) << to_string(*e) << " at " << n;
        }
}

TEST(stream_codec, another_version_or_type_or_trailing_bytes_are_refused) {
    for (const auto& g : goldens) {
        auto f = g;
        f[0] = 2;
        EXPECT_EQ(decode_any(g[1], f), errc::bad_version);
        f = g;
        f[1] = g[1] == stream_end_type ? stream_consume_type : stream_end_type;
        EXPECT_EQ(decode_any(g[1], f), errc::unknown_type);
        f = g;
        f.push_back(0xc0);
        EXPECT_EQ(decode_any(g[1], f), errc::bad_msgpack);
    }
}

TEST(stream_codec, fields_of_the_wrong_type_are_refused) {
    // A bin for a name, a str for a number, a negative number, a map for a list.
    EXPECT_EQ(failure(decode_stream_end(frame_of(stream_end_type, {bin_field(3), str_field("c")}))), errc::wrong_type);
    EXPECT_EQ(failure(decode_stream_answer(frame_of(stream_answer_type,
                                                    with_names({str_field("0"), uint_field(0), uint_field(0), uint_field(0)})))),
              errc::wrong_type);
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, 1, 1, map_field(), 1))), errc::wrong_type);
    EXPECT_EQ(failure(decode_stream_deliver(deliver_frame(1, 1, str_field(""), str_field("payload")))), errc::wrong_type);
    EXPECT_EQ(failure(decode_stream_deliver(frame_of(stream_deliver_type,
                                                     with_names({int_field(-1), uint_field(1), uint_field(0), str_field(""),
                                                                 bin_field(1)})))),
              errc::wrong_type);
    EXPECT_EQ(failure(decode_stream_settle(settle_frame({uints({1, 1, 0, 0})}))), errc::wrong_type);   // 4 fields
    EXPECT_EQ(failure(decode_stream_settle(frame_of(stream_settle_type, with_names({uint_field(1)})))), errc::wrong_type);
    EXPECT_EQ(failure(decode_stream_end(frame_of(stream_end_type, {str_field("s")}))), errc::wrong_type);   // too few
    EXPECT_EQ(failure(decode_stream_end(frame({version, stream_end_type}, str_field("s")))), errc::wrong_type);
}

TEST(stream_codec, values_out_of_range_are_refused) {
    const std::string too_long(max_stream_name_len + 1, 'n');
    EXPECT_EQ(failure(decode_stream_end(frame_of(stream_end_type, {str_field(""), str_field("c")}))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_end(frame_of(stream_end_type, {str_field("s"), str_field(too_long)}))), errc::oversized);
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(4, 1, 1, uints({}), 1))), errc::bad_field);   // start
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, 0, 1, uints({}), 1))), errc::bad_field);   // ack wait
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, max_stream_wait_ms + 1, 1, uints({}), 1))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, 1, 0, uints({}), 1))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, 1, max_stream_deliveries + 1, uints({}), 1))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, 1, 1, uints({max_stream_wait_ms + 1}), 1))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, 1, 1, uints(std::vector<std::uint64_t>(max_backoff_steps + 1, 0)), 1))),
              errc::oversized);
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, 1, 1, uints({}), 0))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_consume(consume_frame(0, 1, 1, uints({}), max_stream_in_flight + 1))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_answer(frame_of(stream_answer_type,
                                                    with_names({uint_field(256), uint_field(0), uint_field(0), uint_field(0)})))),
              errc::bad_field);
    EXPECT_EQ(failure(decode_stream_deliver(deliver_frame(0, 1, str_field(""), bin_field(1)))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_deliver(deliver_frame(1, 0, str_field(""), bin_field(1)))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_deliver(deliver_frame(1, std::uint64_t{UINT32_MAX} + 1, str_field(""), bin_field(1)))),
              errc::bad_field);
    EXPECT_EQ(failure(decode_stream_deliver(deliver_frame(1, 1, str_field(std::string(max_record_key_len + 1, 'k')), bin_field(1)))),
              errc::oversized);
    EXPECT_EQ(failure(decode_stream_settle(settle_frame({}))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_settle(settle_frame({entry(0, 1, 0, 0, "")}))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_settle(settle_frame({entry(1, 0, 0, 0, "")}))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_settle(settle_frame({entry(1, 1, 4, 0, "")}))), errc::bad_field);   // kind
    EXPECT_EQ(failure(decode_stream_settle(settle_frame({entry(1, 1, 1, max_stream_wait_ms + 1, "")}))), errc::bad_field);
    EXPECT_EQ(failure(decode_stream_settle(settle_frame({entry(1, 1, 1, 0, std::string(max_settle_error_len + 1, 'e'))}))),
              errc::oversized);
    EXPECT_EQ(failure(decode_stream_settle(settle_frame(std::vector<field>(max_settle_batch + 1, entry(1, 1, 0, 0, ""))))),
              errc::oversized);
}

TEST(stream_codec, a_payload_over_the_limit_or_a_frame_too_large_is_oversized) {
    const auto d = deliver_frame(1, 1, str_field(""), bin_field(100));
    EXPECT_TRUE(decode_stream_deliver(d, 100));
    EXPECT_EQ(failure(decode_stream_deliver(d, 99)), errc::oversized);
    // Fields a later revision adds count against the room around the payload.
    EXPECT_EQ(failure(decode_stream_deliver(frame_of(stream_deliver_type,
                                                     with_names({uint_field(1), uint_field(1), uint_field(0), str_field(""),
                                                                 bin_field(10), bin_field(max_deliver_overhead)})))),
              errc::oversized);
    // A control-sized message padded past the control frame limit by an extra field.
    EXPECT_EQ(failure(decode_stream_end(frame_of(stream_end_type, with_names({bin_field(max_control_size)})))), errc::oversized);
    // An array claiming more fields than any frame may hold.
    EXPECT_EQ(failure(decode_stream_end(from_hex("01 34 dd 00 01 00 00 a1 73 a1 63"))), errc::oversized);
}

// ---- forward compatibility and hostile bytes ---------------------------------------------

TEST(stream_codec, the_order_field_is_optional_and_bounded) {
    // Revision 10's CONSUME and ANSWER, without it: no order.
    const auto old_consume = consume_frame(1, 30'000, 5, uints({1000, 5000}), 256);
    EXPECT_EQ(*decode_stream_consume(old_consume), sample_consume());
    const auto old_answer = frame_of(stream_answer_type, with_names({uint_field(0), uint_field(1), uint_field(42), uint_field(17)}));
    EXPECT_EQ(*decode_stream_answer(old_answer), sample_answer());
    auto c = sample_consume();
    c.order = stream_order::by_key;
    EXPECT_EQ(*decode_stream_consume(encode_stream_frame(c)), c);
    auto a = sample_answer();
    a.order = stream_order::by_key;
    EXPECT_EQ(*decode_stream_answer(encode_stream_frame(a)), a);
    c.order = static_cast<stream_order>(2);   // no publisher could honour it
    EXPECT_THROW((void)encode_stream_frame(c), std::length_error);
    auto with_order = [&](std::uint64_t order) {
        return frame_of(stream_consume_type, with_names({uint_field(1), uint_field(0), uint_field(30'000), uint_field(5),
                                                         uints({}), uint_field(256), uint_field(order)}));
    };
    EXPECT_EQ(failure(decode_stream_consume(with_order(2))), errc::bad_field);
    // A later revision's order in an ANSWER is kept as its number: it is not none.
    const auto later = decode_stream_answer(frame_of(
        stream_answer_type, with_names({uint_field(0), uint_field(1), uint_field(42), uint_field(17), uint_field(9)})));
    ASSERT_TRUE(later);
    EXPECT_EQ(static_cast<int>(later->order), 9);
    EXPECT_EQ(failure(decode_stream_answer(frame_of(stream_answer_type, with_names({uint_field(0), uint_field(1), uint_field(42),
                                                                                   uint_field(17), uint_field(256)})))),
              errc::bad_field);
}

TEST(stream_codec, fields_a_later_revision_adds_are_ignored) {
    const std::vector<field> extra = {uint_field(7), array_field({str_field("x"), map_field()}), nil_field()};
    const auto add = [&](std::vector<field> f) {
        f.insert(f.end(), extra.begin(), extra.end());
        return f;
    };
    EXPECT_EQ(*decode_stream_end(frame_of(stream_end_type, add(names()))), sample_end());
    EXPECT_EQ(*decode_stream_answer(frame_of(stream_answer_type,
                                             add(with_names({uint_field(0), uint_field(1), uint_field(42), uint_field(17),
                                                             uint_field(0)})))),
              sample_answer());
    // The decoders' views point into the frames: these are kept while they are read.
    const auto consume = frame_of(stream_consume_type, add(with_names({uint_field(1), uint_field(0), uint_field(30'000),
                                                                       uint_field(5), uints({1000, 5000}), uint_field(256),
                                                                       uint_field(0)})));
    const auto c = decode_stream_consume(consume);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, sample_consume());
    const auto f = frame_of(stream_deliver_type, add(with_names({uint_field(18), uint_field(1), uint_field(1'700'000'000'000'000),
                                                                 str_field("c-7"), [](packer& pk) {
                                                                     pk.pack_bin(5);
                                                                     pk.pack_bin_body("\x81\xa2id*", 5);
                                                                 }})));
    const auto d = decode_stream_deliver(f);
    ASSERT_TRUE(d);
    EXPECT_TRUE(same(*d, sample_deliver()));
    const auto settle = frame_of(stream_settle_type, add(with_names({array_field({entry(18, 1, 0, 0, "", extra),
                                                                                 entry(19, 2, 1, 500, "db down")})})));
    const auto s = decode_stream_settle(settle);
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, sample_settle());
}

TEST(stream_codec, random_and_mutated_bytes_decode_or_are_refused_without_throwing) {
    std::mt19937 rng(34);
    for (int i = 0; i < 20000; ++i) {
        const auto& g = goldens[static_cast<std::size_t>(i) % goldens.size()];
        auto f = g;
        if (i % 3 == 0) {
            f = random_bytes(rng, static_cast<std::size_t>(rng() % 64));
        } else {
            for (int flips = 0; flips < 1 + i % 4; ++flips) f[2 + rng() % (f.size() - 2)] = static_cast<std::uint8_t>(rng());
        }
        EXPECT_NO_THROW((void)decode_any(g[1], f));
    }
}
