// SPDX-License-Identifier: MPL-2.0
// member_meta: encode and strictly decode what a member says of itself in gossip.
#include "member_meta.hpp"

#include "endpoint.hpp"
#include "msgpack_io.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace zmesh::protocol {

namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

constexpr std::uint32_t meta_fields = 5;

void pack_str(packer& pk, const std::string& s, std::size_t max, const char* what) {
    if (s.empty() || s.size() > max)
        throw std::length_error(std::string("member meta: ") + what + " must be 1.." + std::to_string(max) + " bytes");
    pk.pack(s);
}

std::size_t array_header_size(std::size_t n) { return n < 16 ? 1 : 3; }

// An endpoint a member gives must be one a receiver can dial, as HELLO's (§2.3).
std::string read_endpoint(field_reader& r) {
    auto s = r.str(max_endpoint_len, false);
    if (!r.error() && !parse_tcp_endpoint(s)) r.fail(errc::bad_field);
    return s;
}

// Reads the next field of `r`, an array of at most `max_count` strings of 1..max_len bytes,
// into `out`, sorted and unique whatever the sender did (as HELLO's services, §6.3).
// Returns: the error, if any.
std::optional<errc> read_names(field_reader& r, std::size_t max_count, std::size_t max_len,
                               std::vector<std::string>& out) {
    field_reader list(r.object(), 0);
    if (auto e = r.error()) return e;
    while (list.has_more()) {
        if (out.size() == max_count) return errc::oversized;
        out.push_back(list.str(max_len, false));
    }
    if (auto e = list.error()) return e;
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return std::nullopt;
}

}  // namespace

std::string encode_member_meta(const member_meta& m) {
    // The strings first; the array's header and the flags, written last, are one byte each
    // whatever their value.
    msgpack::sbuffer strings;
    packer strings_pk(strings);
    pack_str(strings_pk, m.name, max_name_len, "name");
    pack_str(strings_pk, m.pub_endpoint, max_endpoint_len, "pub_endpoint");
    pack_str(strings_pk, m.router_endpoint, max_endpoint_len, "router_endpoint");
    const std::size_t head_size = 1 + strings.size() + 1;
    // Then the services, each alone: as many as fit go, in order.
    msgpack::sbuffer services;
    std::size_t count = 0;
    for (const auto& s : m.services) {
        if (count == max_services) break;
        msgpack::sbuffer one;
        packer one_pk(one);
        pack_str(one_pk, s, max_service_len, "a service");
        if (head_size + array_header_size(count + 1) + services.size() + one.size() > max_gossip_meta) break;
        services.write(one.data(), one.size());
        ++count;
    }
    const std::size_t services_size = array_header_size(count) + services.size();
    // Then the published prefixes, all or none: a partial list would tell subscribers of
    // the missing ones that the member publishes nothing they want.
    msgpack::sbuffer publishes;
    bool listed = m.publishes_listed && m.publishes.size() <= max_published_prefixes;
    if (listed) {
        packer pub_pk(publishes);
        pub_pk.pack_array(static_cast<std::uint32_t>(m.publishes.size()));
        for (const auto& prefix : m.publishes) pack_str(pub_pk, prefix, max_topic_len, "a published prefix");
        listed = head_size + services_size + publishes.size() <= max_gossip_meta;
    }
    const bool complete = m.services_complete && count == m.services.size();
    std::uint8_t flags = 0;
    if (m.observer) flags |= member_flag_observer;
    if (!complete) flags |= member_flag_services_incomplete;
    if (listed) flags |= member_flag_publishes_listed;
    msgpack::sbuffer head;
    packer pk(head);
    pk.pack_array(listed ? meta_fields + 1 : meta_fields);
    head.write(strings.data(), strings.size());
    pk.pack(flags);
    pk.pack_array(static_cast<std::uint32_t>(count));
    std::string out(head.data(), head.size());
    out.append(services.data(), services.size());
    if (listed) out.append(publishes.data(), publishes.size());
    return out;
}

result<member_meta> decode_member_meta(std::span<const std::uint8_t> meta) {
    if (meta.size() > max_gossip_meta) return errc::oversized;
    // Every element and every string takes at least a byte of the meta.
    unpack_limits limits;
    limits.array = max_gossip_meta;
    limits.map = max_gossip_meta / 2;
    limits.str = max_gossip_meta;
    limits.bin = max_gossip_meta;
    limits.ext = max_gossip_meta;
    limits.depth = 8;
    auto handle = unpack_exact(meta, limits);
    if (!handle) return handle.error();
    field_reader r(handle->get(), meta_fields);
    member_meta m;
    m.name = r.str(max_name_len, false);
    m.pub_endpoint = read_endpoint(r);
    m.router_endpoint = read_endpoint(r);
    const auto flags = r.uint(255);
    if (auto e = read_names(r, max_services, max_service_len, m.services)) return *e;
    m.observer = (flags & member_flag_observer) != 0;
    m.services_complete = (flags & member_flag_services_incomplete) == 0;
    m.publishes_listed = (flags & member_flag_publishes_listed) != 0;
    // Without its array the flag would claim the member publishes nothing.
    if (m.publishes_listed && !r.has_more()) return errc::wrong_type;
    if (m.publishes_listed)
        if (auto e = read_names(r, max_published_prefixes, max_topic_len, m.publishes)) return *e;
    return m;
}

}  // namespace zmesh::protocol
