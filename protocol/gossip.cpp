// SPDX-License-Identifier: MPL-2.0
// gossip: encode and strictly decode the membership datagram.
#include "gossip.hpp"

#include "msgpack_io.hpp"

#include <algorithm>
#include <stdexcept>

namespace zmesh::protocol {

namespace {

constexpr std::size_t header_size = 6;
constexpr std::size_t update_fields = 5;

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_id(packer& pk, const node_id& id) {
    pk.pack_bin(node_id::size);
    pk.pack_bin_body(reinterpret_cast<const char*>(id.bytes().data()), node_id::size);
}

void pack_update(msgpack::sbuffer& out, const gossip_update& u) {
    if (u.meta.size() > max_gossip_meta) throw std::length_error("gossip meta over " + std::to_string(max_gossip_meta) + " bytes");
    packer pk(out);
    pk.pack_array(update_fields);
    pack_id(pk, u.id);
    pk.pack(u.incarnation);
    pk.pack(static_cast<std::uint8_t>(u.state));
    pack_id(pk, u.by);
    pk.pack_bin(static_cast<std::uint32_t>(u.meta.size()));
    pk.pack_bin_body(u.meta.data(), static_cast<std::uint32_t>(u.meta.size()));
}

std::size_t array_header_size(std::size_t n) { return n < 16 ? 1 : 3; }

// An id that may be the zero id ("none"): field_reader::id refuses that one.
node_id id_or_none(field_reader& r) {
    const auto b = r.bin(node_id::size);
    if (r.error()) return {};
    auto id = node_id::from_bytes(b);
    if (!id) r.fail(errc::bad_field);
    return id.value_or(node_id{});
}

}  // namespace

std::vector<std::uint8_t> encode_gossip(const gossip_datagram& d, std::size_t* written) {
    if (d.mesh.empty() || d.mesh.size() > max_mesh_len)
        throw std::length_error("gossip mesh must be 1.." + std::to_string(max_mesh_len) + " bytes");
    msgpack::sbuffer head;
    packer pk(head);
    pk.pack_array(5);
    pk.pack(d.mesh);
    pack_id(pk, d.from);
    pk.pack(d.message.seq);
    pack_id(pk, d.message.target);

    // Each update alone first: as many as fit go, in order.
    std::vector<msgpack::sbuffer> updates;
    std::size_t size = header_size + head.size() + array_header_size(max_gossip_updates);
    for (const auto& u : d.message.updates) {
        if (updates.size() == max_gossip_updates) break;
        msgpack::sbuffer one;
        pack_update(one, u);
        if (size + one.size() > max_gossip_size) break;
        size += one.size();
        updates.push_back(std::move(one));
    }
    msgpack::sbuffer list;
    packer(list).pack_array(static_cast<std::uint32_t>(updates.size()));

    std::vector<std::uint8_t> out(std::begin(gossip_magic), std::end(gossip_magic));
    out.push_back(version);
    out.push_back(static_cast<std::uint8_t>(d.message.type));
    out.insert(out.end(), head.data(), head.data() + head.size());
    out.insert(out.end(), list.data(), list.data() + list.size());
    for (const auto& u : updates) out.insert(out.end(), u.data(), u.data() + u.size());
    if (written) *written = updates.size();
    return out;
}

result<gossip_datagram> decode_gossip(std::span<const std::uint8_t> d) {
    if (d.size() > max_gossip_size) return errc::oversized;
    if (d.size() < sizeof gossip_magic) return errc::truncated;
    if (!std::equal(std::begin(gossip_magic), std::end(gossip_magic), d.begin())) return errc::bad_magic;
    if (d.size() < header_size) return errc::truncated;
    if (d[4] != version) return errc::bad_version;
    if (d[5] < static_cast<std::uint8_t>(gossip_kind::ping) || d[5] > static_cast<std::uint8_t>(gossip_kind::nack))
        return errc::unknown_type;

    unpack_limits limits;
    limits.array = std::max<std::size_t>(max_gossip_updates, update_fields) + 16;
    limits.str = max_mesh_len;
    limits.bin = max_gossip_meta;
    limits.map = 0;
    limits.ext = 0;
    limits.depth = 4;
    auto handle = unpack_exact(d.subspan(header_size), limits);
    if (!handle) return handle.error();
    field_reader r(handle->get(), 5);
    gossip_datagram g;
    g.message.type = static_cast<gossip_kind>(d[5]);
    g.mesh = r.str(max_mesh_len, false);
    g.from = r.id();
    g.message.seq = static_cast<std::uint32_t>(r.uint(UINT32_MAX));
    g.message.target = id_or_none(r);
    const auto& list = r.object();
    if (auto e = r.error()) return *e;
    if (list.type != msgpack::type::ARRAY) return errc::wrong_type;
    if (list.via.array.size > max_gossip_updates) return errc::oversized;
    for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
        field_reader u(list.via.array.ptr[i], update_fields);
        gossip_update news;
        news.id = u.id();
        news.incarnation = static_cast<std::uint32_t>(u.uint(UINT32_MAX));
        const auto state = u.uint(static_cast<std::uint8_t>(gossip_status::left));
        news.by = id_or_none(u);
        const auto meta = u.bin(max_gossip_meta);
        if (auto e = u.error()) return *e;
        news.state = static_cast<gossip_status>(state);
        news.meta.assign(meta.begin(), meta.end());
        if (news.id == node_id{} || (news.state != gossip_status::alive && !news.meta.empty())) return errc::bad_field;
        g.message.updates.push_back(std::move(news));
    }
    if (g.from == node_id{}) return errc::bad_field;
    return g;
}

}  // namespace zmesh::protocol
