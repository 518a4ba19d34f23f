// SPDX-License-Identifier: MPL-2.0
// seed_corpus DIR: writes real encoded messages, one file each, into DIR/<target>/ for the
// fuzz targets to start from — every message type, signed and plain beacons, events and
// RPC headers, stream messages, gossip datagrams and member metas of several shapes — so fuzzing
// begins past the magic bytes and headers.
#include "protocol/beacon.hpp"
#include "protocol/control.hpp"
#include "protocol/event.hpp"
#include "protocol/gossip.hpp"
#include "protocol/member_meta.hpp"
#include "protocol/rpc.hpp"
#include "protocol/stream.hpp"
#include "protocol/stream_admin.hpp"

#include <msgpack.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace zmesh::protocol;
namespace fs = std::filesystem;

namespace {

using bytes = std::vector<std::uint8_t>;

void write_all(const fs::path& dir, const std::vector<bytes>& samples) {
    fs::create_directories(dir);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        std::ofstream out(dir / ("seed-" + std::to_string(i)), std::ios::binary);
        out.write(reinterpret_cast<const char*>(samples[i].data()), static_cast<std::streamsize>(samples[i].size()));
    }
}

std::vector<bytes> beacons() {
    beacon b{"lab", node_id::random(), "alpha", "192.0.2.9", 5001, 5002};
    const std::string secret = "fuzzing mesh secret";
    const std::span key(reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size());
    std::vector<bytes> out = {encode_beacon(b), encode_signed_beacon(b, 1'790'000'000'000'000, key)};
    b.host = "";
    out.push_back(encode_beacon(b));
    return out;
}

std::vector<bytes> controls() {
    const auto id = node_id::random();
    std::vector<control> all = {
        hello{"lab", id, "alpha", "tcp://127.0.0.1:5001", "tcp://127.0.0.1:5002", 2, {"echo", "time"}},
        ping{123456789}, pong{987654321}, leave{},
        peers{{{node_id::random(), "beta", "tcp://10.0.0.2:1", "tcp://10.0.0.2:2"}}},
        subs{{"", "orders.", "t"}}, stats_query{}, stats{{{"events_in", 5}, {"events_gaps", 0}}}};
    stats full;   // at the pair limit: one pair more is oversized
    for (std::size_t i = 0; i < max_stats_counters; ++i) full.counters.emplace_back("c" + std::to_string(i), i);
    all.push_back(full);
    const auto meta = encode_member_meta({"alpha", "tcp://10.0.0.1:1", "tcp://10.0.0.1:2", false, {"echo"}, true});
    all.push_back(members{true, {{id, 3, gossip_status::alive, {}, meta}, {node_id::random(), 9, gossip_status::suspect, id, {}},
                                 {node_id::random(), 1, gossip_status::dead, {}, {}}, {node_id::random(), 2, gossip_status::left, {}, {}}}});
    all.push_back(members{false, {}});
    std::vector<bytes> out;
    for (const auto& m : all) out.push_back(encode_control(m));
    return out;
}

std::vector<bytes> events() {
    std::vector<bytes> out;
    for (std::uint64_t seq : {1ull, 300ull, 1ull << 40}) {
        const auto h = encode_event_header({node_id::random(), seq, 1'790'000'000'000'000});
        bytes frame(h.begin(), h.end());
        msgpack::sbuffer payload;
        msgpack::pack(payload, std::vector<std::string>{"a", "payload"});
        frame.insert(frame.end(), payload.data(), payload.data() + payload.size());
        out.push_back(frame);   // a body alone
        const std::span<const std::uint8_t> p(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
        out.push_back(encode_event_frame("orders.created", {node_id::random(), seq, 1}, p));
    }
    return out;
}

bytes request(const request_header& h, const bytes& body = {}) {
    bytes f(request_size(h, body.size()));
    encode_request(h, body, f);
    return f;
}

bytes reply(const reply_header& h, const bytes& body = {}) {
    bytes f(reply_size(h, body.size()));
    encode_reply(h, body, f);
    return f;
}

std::vector<bytes> rpcs() {
    const bytes args = {0x92, 0x01, 0xa1, 'z'};
    // A REPLY as revision-7 and -8 nodes wrote one over its REQUEST: a filler as field 3.
    const bytes padded = {0x01, 0x11, 0x94, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0, 0x00, 0xa0,
                          0xc4, 0x02, 0x6f, 0x6f, 0xa2, 'h', 'i'};
    return {request({1, "inventory.reserve", 500}),
            request({1ull << 50, "echo", 0}),
            reply({1, rpc_ok, ""}),
            reply({7, -32601, "no such method"}),
            request({2, "echo", 250}, args),
            reply({2, rpc_ok, ""}, args),
            padded};
}

std::vector<bytes> streams() {
    const bytes payload = {0x92, 0x01, 0xa1, 'z'};
    const std::string error(max_settle_error_len, 'e');
    stream_settle full{"orders", "billing", {}};   // at the batch limit: one entry more is oversized
    for (std::size_t i = 0; i < max_settle_batch; ++i) full.entries.push_back({i + 1, 1, settle_kind::ack, 0, ""});
    return {encode_stream_frame(stream_consume{"orders", "billing", stream_start::sequence, 40, 30'000, 5, {0, 1000}, 256}),
            encode_stream_frame(stream_consume{"o", "b", stream_start::new_records, 0, 1, 1, {}, 1}),
            encode_stream_frame(stream_answer{"orders", "billing", answer_ok, 1, 1ull << 40, 17}),
            encode_stream_frame(stream_answer{"orders", "billing", answer_no_stream, 0, 0, 0}),
            encode_stream_frame(stream_deliver{"orders", "billing", 18, 1, 1'790'000'000'000'000, "c-7", payload}),
            encode_stream_frame(stream_deliver{"orders", "billing", 1ull << 40, 7, 0, "", {}}),
            encode_stream_frame(stream_settle{"orders", "billing",
                                              {{18, 1, settle_kind::ack, 0, ""}, {19, 2, settle_kind::nak, 500, error},
                                               {20, 1, settle_kind::in_progress, 0, ""}, {21, 3, settle_kind::term, 0, "x"}}}),
            encode_stream_frame(full),
            encode_stream_frame(stream_end{"orders", "billing"})};
}

// Arguments of the reserved stream methods (PROTOCOL.md §15): maps of str keys.
std::vector<bytes> stream_admins() {
    const auto packed = [](const auto& v) {
        msgpack::sbuffer b;
        msgpack::pack(b, v);
        return bytes(b.data(), b.data() + b.size());
    };
    using str_map = std::map<std::string, std::string>;
    msgpack::sbuffer add, publish, requeue, page;
    msgpack::packer<msgpack::sbuffer> a(add), p(publish), r(requeue), l(page);
    a.pack_map(5), a.pack("name"), a.pack("orders"), a.pack("prefix"), a.pack("orders."), a.pack("max_messages");
    a.pack(1000), a.pack("max_bytes"), a.pack(1 << 20), a.pack("max_age_ms"), a.pack(60000);
    p.pack_map(2), p.pack("topic"), p.pack("orders.placed"), p.pack("payload"), p.pack(std::vector<int>{1, 2});
    r.pack_map(2), r.pack("stream"), r.pack("orders"), r.pack("all"), r.pack(true);
    l.pack_map(3), l.pack("stream"), l.pack("orders"), l.pack("from"), l.pack(3), l.pack("max"), l.pack(10);
    return {packed(msgpack::type::nil_t()), packed(str_map{{"stream", "orders"}, {"after", "a"}}),
            bytes(add.data(), add.data() + add.size()), packed(str_map{{"name", "orders"}}),
            bytes(publish.data(), publish.data() + publish.size()),
            bytes(page.data(), page.data() + page.size()),
            bytes(requeue.data(), requeue.data() + requeue.size())};
}

std::vector<bytes> msgpacks() {
    std::vector<bytes> out;
    msgpack::sbuffer a, b, c;
    msgpack::pack(a, std::map<std::string, std::vector<int>>{{"k", {1, -2, 300}}});
    msgpack::pack(b, std::string(300, 'x'));
    msgpack::pack(c, 1.5);
    for (const auto* s : {&a, &b, &c}) out.emplace_back(s->data(), s->data() + s->size());
    return out;
}

std::vector<bytes> gossips() {
    const auto a = node_id::random(), b = node_id::random();
    gossip_datagram d{"lab", a, {gossip_kind::ping, 7, b, {}}};
    std::vector<bytes> out = {encode_gossip(d)};
    d.message.updates = {{b, 3, gossip_status::alive, {}, "name=alpha"}, {a, 9, gossip_status::suspect, b, {}},
                         {b, 1, gossip_status::dead, {}, {}}, {a, 2, gossip_status::left, {}, {}}};
    for (auto type : {gossip_kind::ping, gossip_kind::ping_req, gossip_kind::ack, gossip_kind::nack}) {
        d.message.type = type;
        out.push_back(encode_gossip(d));
    }
    return out;
}

std::vector<bytes> member_metas() {
    std::vector<bytes> out;
    const auto add = [&](const member_meta& m) {
        const auto s = encode_member_meta(m);
        out.emplace_back(s.begin(), s.end());
    };
    add({"alpha", "tcp://192.0.2.9:5001", "tcp://192.0.2.9:5002", false, {"echo", "time.now"}, true});
    add({"o", "tcp://[::1]:1", "tcp://host.lan:65535", true, {}, true});
    member_meta full{std::string(max_name_len, 'n'), "tcp://a:1", "tcp://a:2", false, {}, true};   // cut services
    for (char c = 'a'; c <= 'z'; ++c) full.services.push_back(std::string(60, c));
    add(full);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: seed_corpus DIR\n");
        return 2;
    }
    const fs::path root = argv[1];
    write_all(root / "beacon", beacons());
    write_all(root / "control", controls());
    write_all(root / "event", events());
    write_all(root / "rpc", rpcs());
    write_all(root / "stream", streams());
    write_all(root / "stream_admin", stream_admins());
    write_all(root / "gossip", gossips());
    write_all(root / "member_meta", member_metas());
    write_all(root / "msgpack", msgpacks());
    return 0;
}
