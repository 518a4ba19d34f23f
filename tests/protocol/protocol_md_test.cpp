// SPDX-License-Identifier: MPL-2.0
// PROTOCOL.md: the worked examples of its §13 and §14.9 are the bytes the reference's encoders write,
// byte for byte, and the offsets of its dumps count those bytes. An implementation written
// from the document alone checks itself against these examples, so they must stay true.
#include "protocol/beacon.hpp"
#include "protocol/control.hpp"
#include "protocol/event.hpp"
#include "protocol/rpc.hpp"
#include "protocol/stream.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace zmesh::protocol {
namespace {

using bytes = std::vector<std::uint8_t>;

const node_id alpha = *node_id::from_hex("3f9a1c7e5b2d4e8f9a0b1c2d3e4f5061");
const node_id beta = *node_id::from_hex("00112233445566778899aabbccddeeff");
constexpr std::uint64_t alpha_token = 0x0123456789abcdef;   // the one alpha gave beta
constexpr std::uint64_t beta_token = 0x0fedcba987654321;    // the one beta gave alpha

// Returns: the subsection of PROTOCOL.md whose heading starts with `heading`, up to the next
// heading; empty when there is none.
std::string section(std::string_view heading) {
    std::ifstream in(ZMESH_SOURCE_DIR "/protocol/PROTOCOL.md");
    std::stringstream text;
    text << in.rdbuf();
    const auto md = text.str();
    std::string line_start = "\n";
    line_start += heading;
    auto at = md.find(line_start);
    if (at == std::string::npos) return {};
    ++at;
    const auto end = md.find("\n#", at);
    return md.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

bool is_hex_byte(std::string_view word) {
    return word.size() == 2 && std::isxdigit(static_cast<unsigned char>(word[0])) &&
           std::isxdigit(static_cast<unsigned char>(word[1]));
}

// A dump: a fenced block of lines "OFF  BYTES  meaning", each offset the count of the bytes
// before it (from the block's first offset), continuation lines indented.
struct dump {
    std::size_t start = 0;
    bytes data;
};

// Returns: the dumps of `text`, in order. A dump's offsets that do not count its bytes fail
// the test.
std::vector<dump> dumps(const std::string& text) {
    std::vector<dump> out;
    std::istringstream in(text);
    enum { outside, undecided, in_dump, other } state = outside;
    dump d;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("```")) {
            if (state == in_dump) out.push_back(d);
            state = state == outside ? undecided : outside;
            d = {};
            continue;
        }
        if (state == outside || state == other || line.starts_with("off ") || line.empty()) continue;
        std::istringstream words(line);
        std::string word;
        if (line[0] != ' ') {
            words >> word;
            if (!is_hex_byte(word) || line.compare(2, 2, "  ") != 0) {
                if (state == undecided) state = other;
                continue;
            }
            const auto offset = std::stoul(word, nullptr, 16);
            if (state == undecided) {
                state = in_dump;
                d.start = offset;
            }
            EXPECT_EQ(offset, d.start + d.data.size()) << "offset of: " << line;
        } else if (state != in_dump) {
            continue;
        }
        while (words >> word && is_hex_byte(word))
            d.data.push_back(static_cast<std::uint8_t>(std::stoul(word, nullptr, 16)));
    }
    return out;
}

std::string hex(std::span<const std::uint8_t> b) {
    std::string s;
    for (const auto byte : b) {
        char two[4];
        std::snprintf(two, sizeof two, "%02x", byte);
        if (!s.empty()) s += ' ';
        s += two;
    }
    return s;
}

// Returns: whether `text`, its blanks and line breaks taken as one space, holds `b` written
// as hex bytes, a whole word at each end.
bool shows(const std::string& text, std::span<const std::uint8_t> b) {
    std::string flat;
    for (const char c : text) {
        const bool blank = std::isspace(static_cast<unsigned char>(c));
        if (!blank) flat += c;
        else if (!flat.empty() && flat.back() != ' ') flat += ' ';
    }
    const auto want = hex(b);
    const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (auto at = flat.find(want); at != std::string::npos; at = flat.find(want, at + 1)) {
        const auto end = at + want.size();
        if ((at == 0 || !word(flat[at - 1])) && (end == flat.size() || !word(flat[end]))) return true;
    }
    return false;
}

bool says_size(const std::string& text, std::size_t size) {
    const auto bytes_text = std::to_string(size) + " bytes";
    std::string in_heading = "(";
    in_heading += bytes_text;
    return text.find(in_heading) != std::string::npos ||
           text.find(bytes_text + " in all") != std::string::npos;
}

hello alpha_hello() {
    return {"default", alpha, "alpha", "tcp://192.168.1.20:40123", "tcp://192.168.1.20:40124",
            hello_flag_want_reply | hello_flag_call_links, {}, alpha_token, 0};
}

TEST(protocol_md, beacon_example_is_what_encode_beacon_writes) {
    const auto text = section("### 13.1 ");
    const auto d = dumps(text);
    ASSERT_EQ(d.size(), 1u) << text;
    const beacon b{"default", alpha, "alpha", "", 40123, 40124};
    EXPECT_EQ(d[0].start, 0u);
    EXPECT_EQ(d[0].data, encode_beacon(b));
    EXPECT_TRUE(says_size(text, d[0].data.size()));
    const auto back = decode_beacon(d[0].data);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, b);
}

TEST(protocol_md, hello_examples_are_what_encode_control_writes) {
    const auto text = section("### 13.2 ");
    const auto d = dumps(text);
    ASSERT_EQ(d.size(), 2u) << text;
    const auto first = encode_control(alpha_hello());
    EXPECT_EQ(d[0].start, 0u);
    EXPECT_EQ(d[0].data, first);
    EXPECT_TRUE(says_size(text, first.size()));
    const auto back = decode_control(d[0].data);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, control(alpha_hello()));

    // The answer: the same up to the flags, then its own flags, services, token and echo.
    auto answer = alpha_hello();
    answer.flags = hello_flag_call_links;
    answer.services = {"echo", "time"};
    answer.echo = beta_token;
    const auto second = encode_control(answer);
    ASSERT_EQ(d[1].start, 0x55u);
    ASSERT_LE(d[1].start, second.size());
    EXPECT_TRUE(std::equal(first.begin(), first.begin() + 0x55, second.begin()));
    EXPECT_EQ(d[1].data, bytes(second.begin() + 0x55, second.end()));
    EXPECT_TRUE(says_size(text, second.size()));

    // The routing id beta's ROUTER reads it after: alpha's id, then its token.
    std::array<std::uint8_t, max_routing_id_size> routing;
    EXPECT_TRUE(shows(text, routing_id_of({alpha, false, alpha_token}, routing)));
}

TEST(protocol_md, other_control_examples_are_what_encode_control_writes) {
    const auto text = section("### 13.3 ");
    const std::vector<control> examples = {
        ping{1234567890123},
        pong{1234567890123},
        leave{beta_token},
        leave{0},
        peers{{{beta, "beta", "tcp://10.0.0.7:5001", "tcp://10.0.0.7:5002"}}},
        subs{{"metrics", "orders."}},
        subs{{}},
        subs{{""}},
        stats_query{},
        stats{{{"events_out", 10}, {"events_gaps", 0}}},
        members{true, {{beta, 1, gossip_status::left, {}, {}}}},
    };
    for (const auto& m : examples) {
        const auto frame = encode_control(m);
        EXPECT_TRUE(shows(text, frame)) << hex(frame);
    }
    const bytes revision_7_leave = {0x01, 0x04, 0x90};
    EXPECT_TRUE(shows(text, revision_7_leave));
    const auto back = decode_control(revision_7_leave);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, control(leave{0}));
}

TEST(protocol_md, event_example_is_what_the_event_encoder_writes) {
    const auto text = section("### 13.4 ");
    const auto d = dumps(text);
    ASSERT_EQ(d.size(), 2u) << text;
    const bytes payload = {0x81, 0xa2, 'i', 'd', 0x2a};   // {"id": 42}
    const event_header first{alpha, 1, 1700000000000000};
    const auto frame = encode_event_frame("orders.created", first, payload);
    bytes shown = d[0].data;
    shown.insert(shown.end(), d[1].data.begin(), d[1].data.end());
    EXPECT_EQ(d[0].start, 0u);
    EXPECT_EQ(d[1].start, 0u);   // the body's offsets start again
    EXPECT_EQ(shown, frame);
    EXPECT_EQ(d[0].data.size(), event_body_offset(14));
    EXPECT_TRUE(text.find(std::to_string(frame.size()) + " bytes") != std::string::npos);

    // The next event on the topic, 250 ms later: its seq and sent_us.
    const auto next = encode_event_header({alpha, 2, 1700000000250000});
    EXPECT_TRUE(shows(text, std::span(next).subspan(0x15, 9)));
    EXPECT_TRUE(shows(text, std::span(next).subspan(0x1e, 9)));
}

TEST(protocol_md, rpc_examples_are_what_callers_and_servers_write) {
    const auto text = section("### 13.5 ");
    const auto d = dumps(text);
    ASSERT_EQ(d.size(), 2u) << text;
    const std::uint64_t first_call = std::uint64_t{1} << 32, second_call = std::uint64_t{2} << 32;
    const bytes args = {0xa2, 'h', 'i'};

    // The REQUEST as a caller builds it: with id 0, then the header encoded again with the id.
    bytes request(request_size({0, "echo", 500}, args.size()));
    encode_request({0, "echo", 500}, args, request);
    encode_request({first_call, "echo", 500}, args, request);
    EXPECT_EQ(d[0].start, 0u);
    EXPECT_EQ(d[0].data, request);
    EXPECT_TRUE(text.find(std::to_string(request.size()) + " bytes") != std::string::npos);
    std::array<std::uint8_t, max_routing_id_size> routing;
    EXPECT_TRUE(shows(text, routing_id_of({beta, true, beta_token}, routing)));
    // Another caller's shortest id: "a 12-byte header", read as well.
    const bytes short_id = {0x01, 0x10, 0x93, 0x07, 0xa4, 'e', 'c', 'h', 'o', 0xcd, 0x01, 0xf4, 0xa2, 'h', 'i'};
    const auto other = decode_request(short_id);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->header, (request_header{7, "echo", 500}));
    EXPECT_EQ(other->body.data(), short_id.data() + 12);

    // The REPLY, a frame of its own, to the reference's id and to a caller's short one.
    bytes own(reply_size({first_call, rpc_ok, ""}, args.size()));
    encode_reply({first_call, rpc_ok, ""}, args, own);
    EXPECT_EQ(d[1].start, 0u);
    EXPECT_EQ(d[1].data, own);
    EXPECT_TRUE(text.find(std::to_string(own.size()) + " bytes") != std::string::npos);
    bytes to_short_id(reply_size({7, rpc_ok, ""}, args.size()));
    encode_reply({7, rpc_ok, ""}, args, to_short_id);
    EXPECT_TRUE(shows(text, to_short_id)) << hex(to_short_id);

    // The padded REPLY an older node wrote over the REQUEST's frame reads as the same REPLY.
    bytes padded = request;
    padded[1] = reply_type;
    padded[2] = 0x94;
    padded[12] = 0x00;   // code 0
    padded[13] = 0xa0;   // message ""
    padded[14] = 0xc4;   // a bin 8 of the 4 bytes left before the result
    padded[15] = 0x04;
    EXPECT_TRUE(shows(text, padded)) << hex(padded);
    const auto read = decode_reply(padded);
    ASSERT_TRUE(read);
    EXPECT_EQ(read->header, (reply_header{first_call, rpc_ok, ""}));
    EXPECT_EQ(bytes(read->body.begin(), read->body.end()), args);

    // The error, and the codes' bytes.
    const bytes nil = {0xc0};
    const reply_header no_method{second_call, rpc_no_such_method, "no method 'nope'"};
    bytes error(reply_size(no_method, nil.size()));
    encode_reply(no_method, nil, error);
    EXPECT_TRUE(shows(text, error)) << hex(error);
    for (const auto code : {rpc_no_such_method, rpc_bad_request, rpc_handler_failed, rpc_busy}) {
        bytes h(reply_size({7, code, ""}, 0));   // 01 11 93 07, the code, a0
        encode_reply({7, code, ""}, {}, h);
        EXPECT_TRUE(shows(text, std::span(h).subspan(4, 3))) << code;
    }
}

TEST(protocol_md, stream_examples_are_what_the_stream_encoders_write) {
    const auto text = section("### 14.9 ");
    const auto d = dumps(text);
    ASSERT_EQ(d.size(), 2u) << text;
    const bytes payload = {0x81, 0xa2, 'i', 'd', 0x2a};   // {"id": 42}
    const auto deliver = encode_stream_frame(stream_deliver{"orders", "billing", 18, 1, 1700000000000000, "c-7", payload});
    EXPECT_EQ(d[0].start, 0u);
    EXPECT_EQ(d[0].data, deliver);
    EXPECT_TRUE(says_size(text, deliver.size()));
    const stream_settle settles{"orders", "billing",
                                {{18, 1, settle_kind::ack, 0, ""}, {19, 2, settle_kind::nak, 500, "db down"}}};
    const auto settle = encode_stream_frame(settles);
    EXPECT_EQ(d[1].start, 0u);
    EXPECT_EQ(d[1].data, settle);
    EXPECT_TRUE(says_size(text, settle.size()));
    const auto back = decode_stream_settle(d[1].data);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, settles);

    const auto consume = encode_stream_frame(stream_consume{"orders", "billing", stream_start::first, 0, 30000, 5, {1000, 5000}, 256});
    EXPECT_TRUE(shows(text, consume)) << hex(consume);
    const auto answer = encode_stream_frame(stream_answer{"orders", "billing", answer_ok, 1, 42, 17});
    EXPECT_TRUE(shows(text, answer)) << hex(answer);
    const auto end = encode_stream_frame(stream_end{"orders", "billing"});
    EXPECT_TRUE(shows(text, end)) << hex(end);
}

// §6.2's table names every stream type with its count of fields, and §14.2 its limits.
TEST(protocol_md, the_type_table_and_the_limits_list_the_stream_messages) {
    const auto types = section("### 6.2 ");
    for (const auto* row : {"| `30` | CONSUME | 8 (+1 optional) |", "| `31` | ANSWER | 6 (+1 optional) |", "| `32` | DELIVER | 7 |",
                            "| `33` | SETTLE | 3 |", "| `34` | END | 2 |"})
        EXPECT_NE(types.find(row), std::string::npos) << row;
    const auto limits = section("### 14.2 ");
    const auto row = [&](const char* name, std::size_t value) {
        return limits.find(std::string("| `") + name + "` | " + std::to_string(value)) != std::string::npos;
    };
    EXPECT_TRUE(row("max_stream_name_len", max_stream_name_len));
    EXPECT_TRUE(row("max_record_key_len", max_record_key_len));
    EXPECT_TRUE(row("max_stream_wait_ms", max_stream_wait_ms));
    EXPECT_TRUE(row("max_backoff_steps", max_backoff_steps));
    EXPECT_TRUE(row("max_stream_deliveries", max_stream_deliveries));
    EXPECT_TRUE(row("max_stream_in_flight", max_stream_in_flight));
    EXPECT_TRUE(row("max_settle_batch", max_settle_batch));
    EXPECT_TRUE(row("max_settle_error_len", max_settle_error_len));
    EXPECT_NE(limits.find("| DELIVER overhead | " + std::to_string(max_deliver_overhead)), std::string::npos);
}

// §6.2 and §6.3 name MEMBERS and the gossip flag, and §2.2 the bounds MEMBERS and the meta
// are held to.
TEST(protocol_md, the_type_table_flags_and_limits_list_members) {
    EXPECT_NE(section("### 6.2 ").find("| `09` | MEMBERS | 2 | 1 |"), std::string::npos);
    char flag[32];
    std::snprintf(flag, sizeof flag, "| 3 | `0x%02X` | gossip |", hello_flag_gossip);
    EXPECT_NE(section("### 6.3 ").find(flag), std::string::npos) << flag;
    const auto limits = section("### 2.2 ");
    EXPECT_NE(limits.find("| `max_members_per_message` | " + std::to_string(max_members_per_message) + " |"),
              std::string::npos);
    EXPECT_NE(limits.find("| `max_gossip_meta` | " + std::to_string(max_gossip_meta) + " bytes |"), std::string::npos);
}

}  // namespace
}  // namespace zmesh::protocol
