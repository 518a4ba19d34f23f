// SPDX-License-Identifier: MPL-2.0
// The reserved methods' arguments (PROTOCOL.md §15): each decoder takes what the document
// allows, refuses every bound crossed with -32602 and a reason, ignores unknown keys, and
// never throws on truncated or random bytes; the replies decode back as the maps it names.
#include "protocol/stream_admin.hpp"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include <map>
#include <random>
#include <string>
#include <variant>

namespace zmesh::protocol::admin {
namespace {

using bytes = std::vector<std::uint8_t>;

// Packs a map of str keys to values given as already-packed msgpack objects.
bytes map_of(const std::vector<std::pair<std::string, bytes>>& fields) {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> p(b);
    p.pack_map(static_cast<std::uint32_t>(fields.size()));
    for (const auto& [k, v] : fields) {
        p.pack(k);
        b.write(reinterpret_cast<const char*>(v.data()), v.size());
    }
    return {reinterpret_cast<const std::uint8_t*>(b.data()), reinterpret_cast<const std::uint8_t*>(b.data()) + b.size()};
}
template <class T>
bytes packed(const T& v) {
    msgpack::sbuffer b;
    msgpack::pack(b, v);
    return {reinterpret_cast<const std::uint8_t*>(b.data()), reinterpret_cast<const std::uint8_t*>(b.data()) + b.size()};
}
template <class T>
std::string refusal(const parsed<T>& p) {
    const auto* e = std::get_if<error>(&p);
    if (!e) return "";
    EXPECT_EQ(e->code, bad_arguments);
    return e->message;
}

TEST(stream_admin_args, add_reads_names_limits_and_ignores_unknown_keys) {
    const auto a = decode_add(map_of({{"name", packed("orders")}, {"prefix", packed("orders.")},
                                      {"max_messages", packed(10)}, {"max_bytes", packed(4096)},
                                      {"max_age_ms", packed(60000)}, {"later", packed(std::vector<int>{1, 2})}}));
    ASSERT_TRUE(std::holds_alternative<add_args>(a)) << refusal(a);
    const auto& v = std::get<add_args>(a);
    EXPECT_EQ(v.name, "orders");
    EXPECT_EQ(v.prefix, "orders.");
    EXPECT_EQ(v.max_messages, 10u);
    EXPECT_EQ(v.max_bytes, 4096u);
    EXPECT_EQ(v.max_age_ms, 60000u);
}

TEST(stream_admin_args, add_refuses_names_and_limits_out_of_bounds) {
    const auto name = [](bytes n, bytes prefix = packed("p.")) { return map_of({{"name", n}, {"prefix", prefix}}); };
    EXPECT_NE(refusal(decode_add(name(packed(std::string(256, 'n'))))), "");
    EXPECT_EQ(refusal(decode_add(name(packed(std::string(255, 'n'))))), "");
    EXPECT_NE(refusal(decode_add(name(packed("")))), "");
    EXPECT_NE(refusal(decode_add(name(packed("a.dlq")))), "");
    EXPECT_NE(refusal(decode_add(name(packed(7)))), "");
    EXPECT_NE(refusal(decode_add(name(packed("a"), packed("")))), "");
    EXPECT_NE(refusal(decode_add(name(packed("a"), packed(std::string("x\0y", 3))))), "");
    EXPECT_NE(refusal(decode_add(map_of({{"name", packed("a")}}))), "");
    EXPECT_NE(refusal(decode_add(map_of({{"name", packed("a")}, {"prefix", packed("p")}, {"max_age_ms", packed(-5)}}))), "");
    EXPECT_NE(refusal(decode_add(map_of({{"name", packed("a")}, {"prefix", packed("p")},
                                         {"max_age_ms", packed(max_age_ms + 1)}}))), "");
    EXPECT_NE(refusal(decode_add(packed(std::vector<std::string>{"a", "p"}))), "");   // not a map
}

TEST(stream_admin_args, list_takes_nil_or_a_map) {
    EXPECT_EQ(refusal(decode_list(packed(msgpack::type::nil_t()))), "");
    const auto a = decode_list(map_of({{"stream", packed("orders")}}));
    ASSERT_TRUE(std::holds_alternative<list_args>(a));
    EXPECT_EQ(std::get<list_args>(a).stream, "orders");
    EXPECT_NE(refusal(decode_list(packed(5))), "");
    EXPECT_NE(refusal(decode_list({})), "");
}

TEST(stream_admin_args, publish_views_its_payload_and_bounds_it) {
    const auto args = map_of({{"topic", packed("orders.placed")}, {"payload", packed(std::map<std::string, int>{{"id", 7}})}});
    const auto a = decode_publish(args, 1024);
    ASSERT_TRUE(std::holds_alternative<publish_args>(a)) << refusal(a);
    EXPECT_EQ(bytes(std::get<publish_args>(a).payload.begin(), std::get<publish_args>(a).payload.end()),
              packed(std::map<std::string, int>{{"id", 7}}));
    EXPECT_NE(refusal(decode_publish(args, 4)), "");
    EXPECT_NE(refusal(decode_publish(map_of({{"topic", packed("t")}}), 1024)), "");
    EXPECT_NE(refusal(decode_publish(map_of({{"payload", packed(1)}}), 1024)), "");
}

TEST(stream_admin_args, dlq_pages_and_requeues_are_bounded) {
    const auto ls = [](std::uint64_t max) { return decode_dlq_ls(map_of({{"stream", packed("s")}, {"max", packed(max)}})); };
    EXPECT_EQ(refusal(ls(max_page)), "");
    EXPECT_NE(refusal(ls(max_page + 1)), "");
    EXPECT_NE(refusal(ls(0)), "");
    EXPECT_EQ(std::get<dlq_ls_args>(decode_dlq_ls(map_of({{"stream", packed("s")}}))).max, default_page);
    const auto all = decode_requeue(map_of({{"stream", packed("s")}, {"all", packed(true)}}));
    ASSERT_TRUE(std::holds_alternative<requeue_args>(all));
    EXPECT_TRUE(std::get<requeue_args>(all).all);
    EXPECT_EQ(std::get<requeue_args>(decode_requeue(map_of({{"stream", packed("s")}, {"seq", packed(3)}}))).seq, 3u);
    EXPECT_NE(refusal(decode_requeue(map_of({{"stream", packed("s")}}))), "");
    EXPECT_NE(refusal(decode_requeue(map_of({{"stream", packed("s")}, {"seq", packed(0)}}))), "");
    EXPECT_NE(refusal(decode_requeue(map_of({{"stream", packed("s")}, {"seq", packed(1)}, {"all", packed(true)}}))), "");
    EXPECT_NE(refusal(decode_requeue(map_of({{"stream", packed("s")}, {"all", packed(1)}}))), "");
}

TEST(stream_admin_args, every_truncated_prefix_and_random_bytes_are_refused_without_throwing) {
    const auto full = map_of({{"name", packed("orders")}, {"prefix", packed("orders.")}, {"max_bytes", packed(1 << 20)}});
    for (std::size_t n = 0; n < full.size(); ++n) {
        const std::span<const std::uint8_t> cut(full.data(), n);
        EXPECT_NE(refusal(decode_add(cut)), "") << n;
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        bytes b(rng() % 64);
        for (auto& c : b) c = static_cast<std::uint8_t>(rng());
        if (!b.empty() && rng() % 2) b[0] = static_cast<std::uint8_t>(0x80 | (rng() % 16));   // a fixmap
        (void)decode_add(b), (void)decode_list(b), (void)decode_rm(b), (void)decode_publish(b, 1 << 20);
        (void)decode_dlq_ls(b), (void)decode_requeue(b), (void)decode_dead_letter(b);
    }
    // A map that claims more keys than any request needs is refused before it is read.
    bytes huge = {0xdf, 0xff, 0xff, 0xff, 0xff};
    EXPECT_NE(refusal(decode_rm(huge)), "");
}

TEST(stream_admin_replies, a_dead_letter_page_carries_the_original_payload_as_it_is) {
    dead_letter_report d{3, 17, 5, 1700000000000000, "db down", "k", {}};
    const auto payload = packed(std::map<std::string, int>{{"id", 42}});
    d.payload = payload;
    const auto page = encode_dlq_page("orders", 3, 9, 2, {d}, 4);
    const auto oh = msgpack::unpack(reinterpret_cast<const char*>(page.data()), page.size());
    std::map<std::string, msgpack::object> m;
    oh.get().convert(m);
    EXPECT_EQ(m.at("stream").as<std::string>(), "orders");
    EXPECT_EQ(m.at("more").as<std::uint64_t>(), 4u);
    std::vector<std::map<std::string, msgpack::object>> letters;
    m.at("dead_letters").convert(letters);
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(letters[0].at("original_seq").as<std::uint64_t>(), 17u);
    EXPECT_EQ(letters[0].at("error").as<std::string>(), "db down");
    EXPECT_EQ((letters[0].at("payload").as<std::map<std::string, int>>().at("id")), 42);
    // What a page is cut by is what each dead letter takes in it.
    EXPECT_EQ(encode_dlq_page("orders", 3, 9, 2, {}, 4).size() + packed_size(d), page.size());
}

TEST(stream_admin_replies, a_dead_letter_record_reads_back) {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> p(b);
    p.pack_map(5);
    p.pack("stream"), p.pack("orders"), p.pack("seq"), p.pack(4), p.pack("attempts"), p.pack(3);
    p.pack("error"), p.pack("nope"), p.pack("payload");
    const auto payload = packed(13);
    p.pack_bin(static_cast<std::uint32_t>(payload.size()));
    p.pack_bin_body(reinterpret_cast<const char*>(payload.data()), static_cast<std::uint32_t>(payload.size()));
    const auto d = decode_dead_letter({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->seq, 4u);
    EXPECT_EQ(d->attempts, 3u);
    EXPECT_EQ(d->error, "nope");
    EXPECT_EQ(bytes(d->payload.begin(), d->payload.end()), payload);
}

}  // namespace
}  // namespace zmesh::protocol::admin
