// SPDX-License-Identifier: MPL-2.0
// control tests: round trip of each message, frame layout, and every way a frame is refused.
#include "protocol/control.hpp"

#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

hello sample_hello() {
    return hello{"lab", id_of(1), "alpha", "tcp://192.0.2.9:5001", "tcp://192.0.2.9:5002",
                 hello_flag_observer, {"echo", "time.now"}, 0x0123456789abcdefu, UINT64_MAX};
}

peers sample_peers() {
    peers m;
    for (std::uint8_t i = 2; i < 5; ++i)
        m.list.push_back({id_of(i), "node" + std::to_string(i),
                          "tcp://10.0.0." + std::to_string(i) + ":6001",
                          "tcp://host-" + std::to_string(i) + ".lan:6002"});
    return m;
}

std::vector<control> samples() {
    return {sample_hello(),
            hello{"m", id_of(9), "n", "tcp://[::1]:1", "tcp://h:65535", 0, {}},
            ping{0},
            ping{UINT64_MAX},
            pong{1234567890123},
            leave{},
            leave{42},
            sample_peers(),
            peers{},
            subs{{"", "orders.", "stock"}},
            subs{},
            stats_query{},
            stats{{{"events_in", 5}, {"events_gaps", 0}}},
            stats{},
            members{true, {{id_of(2), 7, gossip_status::alive, {}, "meta"},
                           {id_of(3), 1, gossip_status::suspect, id_of(2), {}}}},
            members{}};
}

bytes head(std::uint8_t type, std::uint8_t ver = version) { return {ver, type}; }
bytes head(msg_type t) { return head(static_cast<std::uint8_t>(t)); }

std::vector<field> good_hello_fields() {
    return {str_field("lab"),        bin_field(16, 1),     str_field("alpha"),
            str_field("tcp://h:1"),  str_field("tcp://h:2"), uint_field(0),
            array_field({str_field("echo")})};
}

bytes hello_frame(std::vector<field> fields) {
    return frame(head(msg_type::hello), array_field(std::move(fields)));
}

bytes hello_with(std::size_t i, field f) {
    auto fields = good_hello_fields();
    fields[i] = std::move(f);
    return hello_frame(std::move(fields));
}

std::vector<field> good_entry_fields() {
    return {bin_field(16, 2), str_field("beta"), str_field("tcp://h:3"), str_field("tcp://h:4")};
}

bytes peers_frame(std::vector<field> entries) {
    return frame(head(msg_type::peers), array_field({array_field(std::move(entries))}));
}

bytes entry_with(std::size_t i, field f) {
    auto fields = good_entry_fields();
    fields[i] = std::move(f);
    return peers_frame({array_field(std::move(fields))});
}

errc error_of(const bytes& frame) {
    auto r = decode_control(frame);
    EXPECT_FALSE(r) << "decoded a bad frame";
    return r ? errc{} : r.error();
}

// Decodes without throwing; an accepted frame must be one the encoder writes and reads back.
// Returns: whether `frame` was accepted.
bool decode_consistently(const bytes& frame) {
    std::optional<result<control>> r;
    EXPECT_NO_THROW(r.emplace(decode_control(frame)));
    if (!r || !*r) return false;
    std::optional<result<control>> again;
    EXPECT_NO_THROW(again.emplace(decode_control(encode_control(r->value()))));
    EXPECT_TRUE(again && *again);
    if (again && *again) {
        EXPECT_EQ(again->value(), r->value());
    }
    return true;
}

}  // namespace

TEST(control_codec, round_trips_every_message_type) {
    for (const auto& m : samples()) {
        auto r = decode_control(encode_control(m));
        ASSERT_TRUE(r) << "index " << m.index() << ": " << to_string(r.error());
        EXPECT_EQ(*r, m) << "index " << m.index();
    }
}

TEST(control_codec, keeps_observer_flag_and_services) {
    auto r = decode_control(encode_control(sample_hello()));
    ASSERT_TRUE(r);
    const auto& h = std::get<hello>(*r);
    EXPECT_EQ(h.flags & hello_flag_observer, hello_flag_observer);
    EXPECT_EQ(h.services, (std::vector<std::string>{"echo", "time.now"}));
}

TEST(control_encode, writes_version_and_type) {
    const std::uint8_t types[] = {0x01, 0x01, 0x02, 0x02, 0x03, 0x04, 0x04, 0x05, 0x05,
                                  0x06, 0x06, 0x07, 0x08, 0x08, 0x09, 0x09};
    const auto all = samples();
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto f = encode_control(all[i]);
        ASSERT_GE(f.size(), 3u);
        EXPECT_EQ(f[0], version);
        EXPECT_EQ(f[1], types[i]) << i;
        auto h = peek_header(f);
        ASSERT_TRUE(h);
        EXPECT_EQ(h->type, types[i]);
    }
}

TEST(control_encode, throws_length_error_over_limits) {
    auto h = sample_hello();
    h.mesh.assign(max_mesh_len + 1, 'm');
    EXPECT_THROW(encode_control(h), std::length_error);
    h = sample_hello();
    h.name.assign(max_name_len + 1, 'n');
    EXPECT_THROW(encode_control(h), std::length_error);
    h = sample_hello();
    h.router_endpoint = "tcp://" + std::string(max_endpoint_len, 'h') + ":1";
    EXPECT_THROW(encode_control(h), std::length_error);
    h = sample_hello();
    h.services.push_back(std::string(max_service_len + 1, 's'));
    EXPECT_THROW(encode_control(h), std::length_error);
    h = sample_hello();
    h.services.assign(max_services + 1, "s");
    EXPECT_THROW(encode_control(h), std::length_error);

    auto p = sample_peers();
    p.list[1].name.assign(max_name_len + 1, 'n');
    EXPECT_THROW(encode_control(p), std::length_error);
    p = sample_peers();
    p.list.resize(max_peers_per_list + 1, p.list[0]);
    EXPECT_THROW(encode_control(p), std::length_error);
}

TEST(control_encode, full_list_of_longest_entries_fits_one_frame) {
    // The reactor sends peer lists in chunks of max_peers_per_list and relies on this.
    peers p;
    const std::string ep = "tcp://" + std::string(max_endpoint_len - 12, 'h') + ":65535";
    ASSERT_EQ(ep.size(), max_endpoint_len);
    p.list.assign(max_peers_per_list, {id_of(3), std::string(max_name_len, 'n'), ep, ep});
    std::vector<std::uint8_t> frame;
    ASSERT_NO_THROW(frame = encode_control(p));
    EXPECT_LE(frame.size(), max_control_size);
}

TEST(peek_header, reads_version_and_any_type) {
    auto h = peek_header(head(0x42));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->version, version);
    EXPECT_EQ(h->type, 0x42);
    EXPECT_EQ(failure(peek_header(bytes{})), errc::truncated);
    EXPECT_EQ(failure(peek_header(bytes{version})), errc::truncated);
    EXPECT_EQ(failure(peek_header(head(0x01, 2))), errc::bad_version);
}

TEST(control_decode, accepts_hand_crafted_baselines) {
    // The bad inputs below differ from these in a single place.
    ASSERT_TRUE(decode_control(hello_frame(good_hello_fields())));
    ASSERT_TRUE(decode_control(peers_frame({array_field(good_entry_fields())})));
    ASSERT_TRUE(decode_control(frame(head(msg_type::ping), array_field({uint_field(1)}))));
}

TEST(control_decode, every_truncated_prefix_is_an_error) {
    for (const auto& m : samples()) {
        const auto f = encode_control(m);
        for (std::size_t n = 0; n < f.size(); ++n) {
            std::optional<result<control>> r;
            ASSERT_NO_THROW(r.emplace(decode_control(std::span(f.data(), n))));
            ASSERT_FALSE(*r) << "index " << m.index() << " prefix " << n;
            EXPECT_EQ(r->error(), errc::truncated) << "index " << m.index() << " prefix " << n;
        }
    }
}

TEST(control_decode, rejects_wrong_version) {
    for (std::uint8_t v : {0, 2, 0xff}) {
        auto f = encode_control(ping{1});
        f[0] = v;
        EXPECT_EQ(error_of(f), errc::bad_version) << int(v);
    }
}

TEST(control_decode, rejects_unknown_type) {
    for (std::uint8_t t : {0x00, 0x0a, 0x20, 0x7f, 0xff})
        EXPECT_EQ(error_of(frame(head(t), array_field({uint_field(1)}))), errc::unknown_type)
            << int(t);
}

TEST(control_decode, subs_are_normalised_and_bounded) {
    auto r = decode_control(frame(head(msg_type::subs),
                                  array_field({array_field({str_field("b"), str_field("a"),
                                                            str_field("b")})})));
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<subs>(*r).prefixes, (std::vector<std::string>{"a", "b"}));
    std::vector<field> many(max_subscriptions + 1, str_field("x"));
    EXPECT_EQ(error_of(frame(head(msg_type::subs), array_field({array_field(many)}))),
              errc::oversized);
    EXPECT_EQ(error_of(frame(head(msg_type::subs),
                             array_field({array_field({str_field(std::string(256, 'p'))})}))),
              errc::oversized);
    EXPECT_EQ(error_of(frame(head(msg_type::subs), array_field({uint_field(1)}))),
              errc::wrong_type);
}

TEST(control_decode, stats_must_map_names_to_unsigned_counters) {
    // A map is not built by wire_builder: write {"a": 1} and {"a": -1} by hand.
    bytes good = head(msg_type::stats);
    for (int b : {0x91, 0x81, 0xa1, int('a'), 0x01}) good.push_back(static_cast<std::uint8_t>(b));
    auto r = decode_control(good);
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<stats>(*r).counters,
              (std::vector<std::pair<std::string, std::uint64_t>>{{"a", 1}}));
    bytes negative = good;
    negative.back() = 0xff;   // -1
    EXPECT_EQ(error_of(negative), errc::wrong_type);
    bytes not_a_map = head(msg_type::stats);
    for (int b : {0x91, 0x90}) not_a_map.push_back(static_cast<std::uint8_t>(b));
    EXPECT_EQ(error_of(not_a_map), errc::wrong_type);
}

TEST(control_encode, full_stats_of_longest_names_round_trips_and_one_more_pair_throws) {
    stats m;
    for (std::size_t i = 0; i < max_stats_counters; ++i) {
        auto name = std::to_string(i);
        name.resize(max_counter_name_len, 'n');
        m.counters.emplace_back(std::move(name), UINT64_MAX);
    }
    std::vector<std::uint8_t> frame;
    ASSERT_NO_THROW(frame = encode_control(m));
    EXPECT_LE(frame.size(), max_control_size);
    const auto r = decode_control(frame);
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<stats>(*r), m);
    m.counters.emplace_back("one_more", 1);
    EXPECT_THROW(encode_control(m), std::length_error);
}

TEST(control_decode, stats_over_the_pair_limit_is_oversized) {
    // {"a": 1, ...} with `pairs` pairs, in a map 16 header, written by hand: the encoder
    // refuses to write too many.
    auto stats_frame = [](std::size_t pairs) {
        bytes f = head(msg_type::stats);
        for (int b : {0x91, 0xde}) f.push_back(static_cast<std::uint8_t>(b));
        f.push_back(static_cast<std::uint8_t>(pairs >> 8));
        f.push_back(static_cast<std::uint8_t>(pairs & 0xff));
        for (std::size_t i = 0; i < pairs; ++i)
            for (int b : {0xa1, int('a'), 0x01}) f.push_back(static_cast<std::uint8_t>(b));
        return f;
    };
    const auto at_limit = decode_control(stats_frame(max_stats_counters));
    ASSERT_TRUE(at_limit);
    EXPECT_EQ(std::get<stats>(*at_limit).counters.size(), max_stats_counters);
    EXPECT_EQ(error_of(stats_frame(max_stats_counters + 1)), errc::oversized);
}

TEST(control_decode, rejects_oversized_frame) {
    // A hello padded with an ignored trailing field to exactly the limit, then one more byte.
    auto padded = [](std::size_t total) {
        auto fields = good_hello_fields();
        fields.push_back(uint_field(1));   // token
        fields.push_back(uint_field(2));   // echo
        const std::size_t base = hello_frame(fields).size() + 5;   // + bin32 header
        fields.push_back(bin_field(total - base));
        return hello_frame(fields);
    };
    const auto at_limit = padded(max_control_size);
    ASSERT_EQ(at_limit.size(), max_control_size);
    EXPECT_TRUE(decode_control(at_limit));
    const auto over = padded(max_control_size + 1);
    ASSERT_EQ(over.size(), max_control_size + 1);
    EXPECT_EQ(error_of(over), errc::oversized);
}

TEST(control_decode, rejects_over_long_strings_as_oversized) {
    EXPECT_EQ(error_of(hello_with(0, str_field(std::string(max_mesh_len + 1, 'm')))),
              errc::oversized);
    EXPECT_EQ(error_of(hello_with(1, bin_field(17))), errc::oversized);
    EXPECT_EQ(error_of(hello_with(2, str_field(std::string(max_name_len + 1, 'n')))),
              errc::oversized);
    EXPECT_EQ(error_of(hello_with(3, str_field("tcp://" + std::string(max_endpoint_len, 'h') +
                                               ":1"))),
              errc::oversized);
    EXPECT_EQ(error_of(hello_with(6, array_field({str_field(std::string(max_service_len + 1, 's'))}))),
              errc::oversized);
    EXPECT_EQ(error_of(entry_with(1, str_field(std::string(max_name_len + 1, 'n')))),
              errc::oversized);
}

TEST(control_decode, limits_service_and_peer_counts) {
    std::vector<field> services(max_services, str_field("s"));
    EXPECT_TRUE(decode_control(hello_with(6, array_field(services))));
    services.push_back(str_field("s"));
    EXPECT_EQ(error_of(hello_with(6, array_field(services))), errc::oversized);

    std::vector<field> entries(max_peers_per_list, array_field(good_entry_fields()));
    auto r = decode_control(peers_frame(entries));
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<peers>(*r).list.size(), max_peers_per_list);
    entries.push_back(array_field(good_entry_fields()));
    EXPECT_EQ(error_of(peers_frame(entries)), errc::oversized);
}

TEST(control_decode, rejects_wrong_type_in_each_hello_field) {
    const std::vector<field> wrong = {uint_field(1),     str_field("0123456789abcdef"),
                                      bin_field(3),      uint_field(5001),
                                      nil_field(),       bool_field(true),
                                      str_field("echo")};
    for (std::size_t i = 0; i < wrong.size(); ++i) {
        EXPECT_EQ(error_of(hello_with(i, wrong[i])), errc::wrong_type) << "field " << i;
        EXPECT_EQ(error_of(hello_with(i, map_field())), errc::wrong_type) << "field " << i;
    }
    EXPECT_EQ(error_of(hello_with(5, int_field(-1))), errc::wrong_type);
    EXPECT_EQ(error_of(hello_with(6, array_field({str_field("a"), uint_field(1)}))),
              errc::wrong_type);
    auto six = good_hello_fields();
    six.pop_back();
    EXPECT_EQ(error_of(hello_frame(six)), errc::wrong_type);
}

TEST(control_decode, rejects_hello_fields_out_of_range) {
    EXPECT_EQ(error_of(hello_with(0, str_field(""))), errc::bad_field);
    EXPECT_EQ(error_of(hello_with(1, bin_field(15))), errc::bad_field);
    EXPECT_EQ(error_of(hello_with(1, bin_field(16, 0))), errc::bad_field);
    EXPECT_EQ(error_of(hello_with(2, str_field(""))), errc::bad_field);
    for (const char* ep : {"", "udp://h:1", "tcp://h:0", "tcp://h:70000", "tcp://h", "tcp://*:5",
                           "h:5", "tcp://:5"}) {
        EXPECT_EQ(error_of(hello_with(3, str_field(ep))), errc::bad_field) << ep;
        EXPECT_EQ(error_of(hello_with(4, str_field(ep))), errc::bad_field) << ep;
    }
    EXPECT_EQ(error_of(hello_with(5, uint_field(256))), errc::bad_field);
    EXPECT_EQ(error_of(hello_with(6, array_field({str_field("")}))), errc::bad_field);
}

TEST(control_decode, rejects_wrong_types_in_ping_pong_and_leave) {
    for (auto t : {msg_type::ping, msg_type::pong}) {
        EXPECT_EQ(error_of(frame(head(t), array_field({str_field("1")}))), errc::wrong_type);
        EXPECT_EQ(error_of(frame(head(t), array_field({int_field(-1)}))), errc::wrong_type);
        EXPECT_EQ(error_of(frame(head(t), array_field({nil_field()}))), errc::wrong_type);
        EXPECT_EQ(error_of(frame(head(t), array_field({}))), errc::wrong_type);
        EXPECT_EQ(error_of(frame(head(t), uint_field(1))), errc::wrong_type);
    }
    EXPECT_EQ(error_of(frame(head(msg_type::leave), nil_field())), errc::wrong_type);
    EXPECT_EQ(error_of(frame(head(msg_type::leave), map_field())), errc::wrong_type);
}

TEST(control_decode, rejects_malformed_peer_lists) {
    const auto peers_body = [](field list) { return frame(head(msg_type::peers), list); };
    EXPECT_EQ(error_of(peers_body(array_field({}))), errc::wrong_type);
    EXPECT_EQ(error_of(peers_body(array_field({str_field("x")}))), errc::wrong_type);
    EXPECT_EQ(error_of(peers_frame({uint_field(1)})), errc::wrong_type);
    auto three = good_entry_fields();
    three.pop_back();
    EXPECT_EQ(error_of(peers_frame({array_field(three)})), errc::wrong_type);
    const std::vector<field> wrong = {str_field("0123456789abcdef"), uint_field(1), nil_field(),
                                      bin_field(9)};
    for (std::size_t i = 0; i < wrong.size(); ++i)
        EXPECT_EQ(error_of(entry_with(i, wrong[i])), errc::wrong_type) << "field " << i;
    // One bad entry among good ones spoils the frame.
    EXPECT_EQ(error_of(peers_frame({array_field(good_entry_fields()), uint_field(1)})),
              errc::wrong_type);
}

TEST(control_decode, rejects_peer_entries_out_of_range) {
    EXPECT_EQ(error_of(entry_with(0, bin_field(15))), errc::bad_field);
    EXPECT_EQ(error_of(entry_with(0, bin_field(16, 0))), errc::bad_field);
    EXPECT_EQ(error_of(entry_with(1, str_field(""))), errc::bad_field);
    EXPECT_EQ(error_of(entry_with(2, str_field("tcp://h:0"))), errc::bad_field);
    EXPECT_EQ(error_of(entry_with(3, str_field("ipc:///tmp/x"))), errc::bad_field);
}

TEST(control_decode, rejects_trailing_bytes_after_body) {
    for (const auto& m : samples()) {
        auto f = encode_control(m);
        f.push_back(0xc0);
        EXPECT_EQ(error_of(f), errc::bad_msgpack) << "index " << m.index();
    }
}

TEST(control_decode, accepts_extra_trailing_fields) {
    auto h = good_hello_fields();
    h.push_back(uint_field(5));   // token
    h.push_back(uint_field(6));   // echo
    h.push_back(str_field("future"));
    h.push_back(map_field());
    EXPECT_TRUE(decode_control(hello_frame(h)));
    auto ping_r = decode_control(
        frame(head(msg_type::ping), array_field({uint_field(7), str_field("x"), nil_field()})));
    ASSERT_TRUE(ping_r);
    EXPECT_EQ(std::get<ping>(*ping_r).token, 7u);
    EXPECT_TRUE(decode_control(frame(head(msg_type::pong), array_field({uint_field(7), nil_field()}))));
    EXPECT_TRUE(decode_control(frame(head(msg_type::leave), array_field({uint_field(1), str_field("x")}))));
    EXPECT_TRUE(decode_control(frame(head(msg_type::peers),
                                     array_field({array_field({}), str_field("x")}))));
    auto e = good_entry_fields();
    e.push_back(uint_field(9));
    auto r = decode_control(peers_frame({array_field(e)}));
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<peers>(*r).list.at(0).name, "beta");
}

TEST(control_decode, revision_7_hello_and_leave_carry_no_link_tokens) {
    // A revision-7 sender's HELLO has seven fields and its LEAVE none: tokens read as 0.
    auto r = decode_control(hello_frame(good_hello_fields()));
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<hello>(*r).token, 0u);
    EXPECT_EQ(std::get<hello>(*r).echo, 0u);
    auto with_token_only = good_hello_fields();
    with_token_only.push_back(uint_field(9));
    r = decode_control(hello_frame(with_token_only));
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<hello>(*r).token, 9u);
    EXPECT_EQ(std::get<hello>(*r).echo, 0u);
    r = decode_control(frame(head(msg_type::leave), array_field({})));
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<leave>(*r).token, 0u);
}

TEST(control_decode, link_tokens_must_be_unsigned_integers) {
    for (auto bad : {str_field("7"), nil_field(), bin_field(8), bool_field(true)}) {
        auto token_wrong = good_hello_fields();
        token_wrong.push_back(bad);
        EXPECT_EQ(error_of(hello_frame(token_wrong)), errc::wrong_type);
        auto echo_wrong = good_hello_fields();
        echo_wrong.push_back(uint_field(1));
        echo_wrong.push_back(bad);
        EXPECT_EQ(error_of(hello_frame(echo_wrong)), errc::wrong_type);
        EXPECT_EQ(error_of(frame(head(msg_type::leave), array_field({bad}))), errc::wrong_type);
    }
}

TEST(control_decode, random_frames_are_refused_without_throwing) {
    std::mt19937 rng(424242);
    std::uniform_int_distribution<std::size_t> len(0, 300);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        const bytes f = random_bytes(rng, len(rng));
        if (decode_consistently(f)) ++accepted;
        if (f.size() < 2) {
            EXPECT_EQ(error_of(f), errc::truncated);
        } else if (f[0] != version) {
            EXPECT_EQ(error_of(f), errc::bad_version);
        }
    }
    EXPECT_LT(accepted, 20);
}

TEST(control_decode, valid_header_with_random_body_never_throws) {
    std::mt19937 rng(31337);
    std::uniform_int_distribution<std::size_t> len(0, 300);
    std::uniform_int_distribution<int> type(0, 10);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        const auto t = static_cast<std::uint8_t>(type(rng));
        bytes f = head(t);
        const bytes body = random_bytes(rng, len(rng));
        f.insert(f.end(), body.begin(), body.end());
        const bool ok = decode_consistently(f);
        if (ok) ++accepted;
        if (t == 0 || t > 9) {
            EXPECT_FALSE(ok) << "unknown type " << int(t) << " accepted";
        }
    }
    EXPECT_LT(accepted, 200);
}

TEST(control_decode, mutated_frames_never_throw_and_stay_consistent) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> byte(0, 255);
    for (const auto& m : samples()) {
        const auto good = encode_control(m);
        std::uniform_int_distribution<std::size_t> pos(0, good.size() - 1), flips(1, 3);
        for (int i = 0; i < 3000; ++i) {
            bytes f = good;
            for (std::size_t k = flips(rng); k > 0; --k)
                f[pos(rng)] = static_cast<std::uint8_t>(byte(rng));
            decode_consistently(f);
        }
    }
}
