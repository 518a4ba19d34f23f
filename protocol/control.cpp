// SPDX-License-Identifier: MPL-2.0
// control: encode and strictly decode the join / liveness / leave messages.
#include "control.hpp"

#include "endpoint.hpp"
#include "gossip_update_codec.hpp"
#include "msgpack_io.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace zmesh::protocol {

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_id(packer& pk, const node_id& id) {
    pk.pack_bin(node_id::size);
    pk.pack_bin_body(reinterpret_cast<const char*>(id.bytes().data()), node_id::size);
}

void pack_str(packer& pk, const std::string& s, std::size_t max) {
    if (s.size() > max) throw std::length_error("control field over " + std::to_string(max));
    pk.pack(s);
}

struct body_encoder {
    packer& pk;
    void operator()(const hello& m) const {
        pk.pack_array(9);
        pack_str(pk, m.mesh, max_mesh_len);
        pack_id(pk, m.id);
        pack_str(pk, m.name, max_name_len);
        pack_str(pk, m.pub_endpoint, max_endpoint_len);
        pack_str(pk, m.router_endpoint, max_endpoint_len);
        pk.pack(m.flags);
        if (m.services.size() > max_services) throw std::length_error("too many services");
        pk.pack_array(static_cast<std::uint32_t>(m.services.size()));
        for (const auto& s : m.services) pack_str(pk, s, max_service_len);
        pk.pack(m.token);
        pk.pack(m.echo);
    }
    void operator()(const ping& m) const { pk.pack_array(1); pk.pack(m.token); }
    void operator()(const pong& m) const { pk.pack_array(1); pk.pack(m.token); }
    void operator()(const leave& m) const { pk.pack_array(1); pk.pack(m.token); }
    void operator()(const peers& m) const {
        if (m.list.size() > max_peers_per_list) throw std::length_error("peer list too long");
        pk.pack_array(1);
        pk.pack_array(static_cast<std::uint32_t>(m.list.size()));
        for (const auto& p : m.list) {
            pk.pack_array(4);
            pack_id(pk, p.id);
            pack_str(pk, p.name, max_name_len);
            pack_str(pk, p.pub_endpoint, max_endpoint_len);
            pack_str(pk, p.router_endpoint, max_endpoint_len);
        }
    }
    void operator()(const subs& m) const {
        if (m.prefixes.size() > max_subscriptions) throw std::length_error("too many prefixes");
        pk.pack_array(1);
        pk.pack_array(static_cast<std::uint32_t>(m.prefixes.size()));
        for (const auto& p : m.prefixes) pack_str(pk, p, max_topic_len);
    }
    void operator()(const stats_query&) const { pk.pack_array(0); }
    void operator()(const stats& m) const {
        if (m.counters.size() > max_stats_counters) throw std::length_error("too many counters");
        pk.pack_array(1);
        pk.pack_map(static_cast<std::uint32_t>(m.counters.size()));
        for (const auto& [name, value] : m.counters) {
            pack_str(pk, name, max_counter_name_len);
            pk.pack(value);
        }
    }
    void operator()(const members& m) const {
        if (m.list.size() > max_members_per_message) throw std::length_error("member list too long");
        pk.pack_array(2);
        pk.pack(m.reply_wanted ? members_flag_reply_wanted : std::uint8_t{0});
        pk.pack_array(static_cast<std::uint32_t>(m.list.size()));
        for (const auto& u : m.list) pack_gossip_update(pk, u);
    }
};

constexpr msg_type type_of(const control& m) {
    constexpr msg_type types[] = {msg_type::hello, msg_type::ping,  msg_type::pong,
                                  msg_type::leave, msg_type::peers, msg_type::subs,
                                  msg_type::stats_query, msg_type::stats, msg_type::members};
    static_assert(std::size(types) == std::variant_size_v<control>);
    return types[m.index()];
}

// Sorted and unique, whatever the sender did, so lookups can rely on it.
void normalise(std::vector<std::string>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

// An endpoint a peer asks us to dial must be a real tcp endpoint: a bad one would make
// zmq_connect fail later, far from the frame that carried it.
std::string read_endpoint(field_reader& r) {
    auto s = r.str(max_endpoint_len, false);
    if (!r.error() && !parse_tcp_endpoint(s)) r.fail(errc::bad_field);
    return s;
}

result<control> decode_hello(field_reader& r) {
    hello m;
    m.mesh = r.str(max_mesh_len, false);
    m.id = r.id();
    m.name = r.str(max_name_len, false);
    m.pub_endpoint = read_endpoint(r);
    m.router_endpoint = read_endpoint(r);
    m.flags = static_cast<std::uint8_t>(r.uint(255));
    field_reader list(r.object(), 0);
    if (auto e = r.error()) return *e;
    if (auto e = list.error()) return *e;
    while (list.has_more() && m.services.size() <= max_services)
        m.services.push_back(list.str(max_service_len, false));
    if (m.services.size() > max_services) return errc::oversized;
    if (auto e = list.error()) return *e;
    // Revision 8's link tokens; a revision-7 sender has none.
    if (r.has_more()) m.token = r.uint();
    if (r.has_more()) m.echo = r.uint();
    if (auto e = r.error()) return *e;
    normalise(m.services);
    return control{std::move(m)};
}

result<control> decode_peers(field_reader& r) {
    field_reader list(r.object(), 0);
    if (auto e = r.error()) return *e;
    if (auto e = list.error()) return *e;
    peers m;
    while (list.has_more()) {
        if (m.list.size() == max_peers_per_list) return errc::oversized;
        field_reader item(list.object(), 4);
        peer_entry p;
        p.id = item.id();
        p.name = item.str(max_name_len, false);
        p.pub_endpoint = read_endpoint(item);
        p.router_endpoint = read_endpoint(item);
        if (auto e = item.error()) return *e;
        m.list.push_back(std::move(p));
    }
    if (auto e = list.error()) return *e;
    return control{std::move(m)};
}

result<control> decode_subs(field_reader& r) {
    field_reader list(r.object(), 0);
    if (auto e = r.error()) return *e;
    subs m;
    while (list.has_more()) {
        if (m.prefixes.size() == max_subscriptions) return errc::oversized;
        m.prefixes.push_back(list.str(max_topic_len));
    }
    if (auto e = list.error()) return *e;
    normalise(m.prefixes);
    return control{std::move(m)};
}

result<control> decode_stats(field_reader& r) {
    const auto& map = r.object();
    if (auto e = r.error()) return *e;
    if (map.type != msgpack::type::MAP) return errc::wrong_type;
    if (map.via.map.size > max_stats_counters) return errc::oversized;
    stats m;
    for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
        const auto& kv = map.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR || kv.val.type != msgpack::type::POSITIVE_INTEGER)
            return errc::wrong_type;
        if (kv.key.via.str.size > max_counter_name_len) return errc::oversized;
        m.counters.emplace_back(std::string(kv.key.via.str.ptr, kv.key.via.str.size),
                                kv.val.via.u64);
    }
    return control{std::move(m)};
}

// Each update as strictly as in a gossip datagram: MEMBERS carries the same news.
result<control> decode_members(field_reader& r) {
    members m;
    m.reply_wanted = (r.uint(255) & members_flag_reply_wanted) != 0;
    const auto& list = r.object();
    if (auto e = r.error()) return *e;
    if (list.type != msgpack::type::ARRAY) return errc::wrong_type;
    if (list.via.array.size > max_members_per_message) return errc::oversized;
    m.list.reserve(list.via.array.size);
    for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
        auto news = read_gossip_update(list.via.array.ptr[i]);
        if (!news) return news.error();
        m.list.push_back(std::move(*news));
    }
    return control{std::move(m)};
}

}  // namespace

std::uint64_t random_link_token() {
    static const bool ready = sodium_init() >= 0;   // once, thread-safe
    (void)ready;
    std::uint64_t token = 0;
    while (token == 0) randombytes_buf(&token, sizeof token);
    return token;
}

result<frame_header> peek_header(std::span<const std::uint8_t> frame) {
    if (frame.size() < 2) return errc::truncated;
    if (frame[0] != version) return errc::bad_version;
    return frame_header{frame[0], frame[1]};
}

std::vector<std::uint8_t> encode_control(const control& msg) {
    msgpack::sbuffer body;
    packer pk(body);
    std::visit(body_encoder{pk}, msg);
    auto out = with_head(static_cast<std::uint8_t>(type_of(msg)), body);
    if (out.size() > max_control_size) throw std::length_error("control frame too large");
    return out;
}

result<control> decode_control(std::span<const std::uint8_t> frame) {
    auto header = peek_header(frame);
    if (!header) return header.error();
    if (frame.size() > max_control_size) return errc::oversized;
    auto handle = unpack_exact(frame.subspan(2));
    if (!handle) return handle.error();
    const auto& body = handle->get();

    switch (static_cast<msg_type>(header->type)) {
        case msg_type::hello: {
            field_reader r(body, 7);
            return decode_hello(r);
        }
        case msg_type::ping:
        case msg_type::pong: {
            field_reader r(body, 1);
            const auto token = r.uint();
            if (auto e = r.error()) return *e;
            if (header->type == static_cast<std::uint8_t>(msg_type::ping))
                return control{ping{token}};
            return control{pong{token}};
        }
        case msg_type::leave: {
            field_reader r(body, 0);
            leave m;
            if (r.has_more()) m.token = r.uint();   // revision 8; none from revision 7
            if (auto e = r.error()) return *e;
            return control{m};
        }
        case msg_type::peers: {
            field_reader r(body, 1);
            return decode_peers(r);
        }
        case msg_type::subs: {
            field_reader r(body, 1);
            return decode_subs(r);
        }
        case msg_type::stats_query: {
            field_reader r(body, 0);
            if (auto e = r.error()) return *e;
            return control{stats_query{}};
        }
        case msg_type::stats: {
            field_reader r(body, 1);
            return decode_stats(r);
        }
        case msg_type::members: {
            field_reader r(body, 2);
            return decode_members(r);
        }
    }
    return errc::unknown_type;
}

}  // namespace zmesh::protocol
