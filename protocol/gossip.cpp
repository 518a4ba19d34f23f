// SPDX-License-Identifier: MPL-2.0
// gossip: encode and strictly decode the membership datagram.
#include "gossip.hpp"

#include "gossip_update_codec.hpp"
#include "msgpack_io.hpp"

#include <algorithm>
#include <stdexcept>

namespace zmesh::protocol {

namespace {

constexpr std::size_t header_size = 6;

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_id(packer& pk, const node_id& id) {
    pk.pack_bin(node_id::size);
    pk.pack_bin_body(reinterpret_cast<const char*>(id.bytes().data()), node_id::size);
}

std::size_t array_header_size(std::size_t n) { return n < 16 ? 1 : 3; }

}  // namespace

std::size_t gossip_update_size(const gossip_update& u) {
    msgpack::sbuffer one;
    packer pk(one);
    pack_gossip_update(pk, u);
    return one.size();
}

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
        packer one_pk(one);
        pack_gossip_update(one_pk, u);
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
    limits.array = max_gossip_updates + 16;
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
    g.message.target = r.id_or_none();
    const auto& list = r.object();
    if (auto e = r.error()) return *e;
    if (list.type != msgpack::type::ARRAY) return errc::wrong_type;
    if (list.via.array.size > max_gossip_updates) return errc::oversized;
    for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
        auto news = read_gossip_update(list.via.array.ptr[i]);
        if (!news) return news.error();
        g.message.updates.push_back(std::move(*news));
    }
    if (g.from == node_id{}) return errc::bad_field;
    return g;
}

}  // namespace zmesh::protocol
