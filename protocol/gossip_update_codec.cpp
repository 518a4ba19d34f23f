// SPDX-License-Identifier: MPL-2.0
// gossip_update_codec: encode and strictly decode one gossip update.
#include "gossip_update_codec.hpp"

#include <stdexcept>
#include <string>

namespace zmesh::protocol {

namespace {

constexpr std::uint32_t update_fields = 5;

void pack_id(msgpack::packer<msgpack::sbuffer>& pk, const node_id& id) {
    pk.pack_bin(node_id::size);
    pk.pack_bin_body(reinterpret_cast<const char*>(id.bytes().data()), node_id::size);
}

}  // namespace

void pack_gossip_update(msgpack::packer<msgpack::sbuffer>& pk, const gossip_update& u) {
    if (u.meta.size() > max_gossip_meta)
        throw std::length_error("gossip meta over " + std::to_string(max_gossip_meta) + " bytes");
    pk.pack_array(update_fields);
    pack_id(pk, u.id);
    pk.pack(u.incarnation);
    pk.pack(static_cast<std::uint8_t>(u.state));
    pack_id(pk, u.by);
    pk.pack_bin(static_cast<std::uint32_t>(u.meta.size()));
    pk.pack_bin_body(u.meta.data(), static_cast<std::uint32_t>(u.meta.size()));
}

result<gossip_update> read_gossip_update(const msgpack::object& o) {
    field_reader u(o, update_fields);
    gossip_update news;
    news.id = u.id();
    news.incarnation = static_cast<std::uint32_t>(u.uint(UINT32_MAX));
    const auto state = u.uint(static_cast<std::uint8_t>(gossip_status::left));
    news.by = u.id_or_none();
    const auto meta = u.bin(max_gossip_meta);
    if (auto e = u.error()) return *e;
    news.state = static_cast<gossip_status>(state);
    // Only `alive` speaks for the member itself; news of another state carries no meta.
    if (news.state != gossip_status::alive && !meta.empty()) return errc::bad_field;
    news.meta.assign(meta.begin(), meta.end());
    return news;
}

}  // namespace zmesh::protocol
