// SPDX-License-Identifier: MPL-2.0
// control: encode and strictly decode the join / liveness / leave messages.
#include "control.hpp"

#include "endpoint.hpp"
#include "msgpack_io.hpp"

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
        pk.pack_array(7);
        pack_str(pk, m.mesh, max_mesh_len);
        pack_id(pk, m.id);
        pack_str(pk, m.name, max_name_len);
        pack_str(pk, m.pub_endpoint, max_endpoint_len);
        pack_str(pk, m.router_endpoint, max_endpoint_len);
        pk.pack(m.flags);
        if (m.services.size() > max_services) throw std::length_error("too many services");
        pk.pack_array(static_cast<std::uint32_t>(m.services.size()));
        for (const auto& s : m.services) pack_str(pk, s, max_service_len);
    }
    void operator()(const ping& m) const { pk.pack_array(1); pk.pack(m.token); }
    void operator()(const pong& m) const { pk.pack_array(1); pk.pack(m.token); }
    void operator()(const leave&) const { pk.pack_array(0); }
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
};

constexpr msg_type type_of(const control& m) {
    constexpr msg_type types[] = {msg_type::hello, msg_type::ping, msg_type::pong,
                                  msg_type::leave, msg_type::peers};
    return types[m.index()];
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
    // Senders keep the list sorted and unique; a receiver makes sure, so lookups can rely on it.
    std::sort(m.services.begin(), m.services.end());
    m.services.erase(std::unique(m.services.begin(), m.services.end()), m.services.end());
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

}  // namespace

result<frame_header> peek_header(std::span<const std::uint8_t> frame) {
    if (frame.size() < 2) return errc::truncated;
    if (frame[0] != version) return errc::bad_version;
    return frame_header{frame[0], frame[1]};
}

std::vector<std::uint8_t> encode_control(const control& msg) {
    msgpack::sbuffer body;
    packer pk(body);
    std::visit(body_encoder{pk}, msg);
    std::vector<std::uint8_t> out;
    out.reserve(2 + body.size());
    out.push_back(version);
    out.push_back(static_cast<std::uint8_t>(type_of(msg)));
    out.insert(out.end(), body.data(), body.data() + body.size());
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
            if (auto e = r.error()) return *e;
            return control{leave{}};
        }
        case msg_type::peers: {
            field_reader r(body, 1);
            return decode_peers(r);
        }
    }
    return errc::unknown_type;
}

}  // namespace zmesh::protocol
