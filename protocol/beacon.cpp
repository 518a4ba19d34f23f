// SPDX-License-Identifier: MPL-2.0
// beacon: encode and strictly decode the discovery datagram.
#include "beacon.hpp"

#include "endpoint.hpp"
#include "msgpack_io.hpp"

#include <algorithm>
#include <stdexcept>

namespace zmesh::protocol {

namespace {
constexpr std::size_t header_size = 6;

void check_length(const std::string& s, std::size_t max, const char* what, bool allow_empty) {
    if (s.size() > max || (!allow_empty && s.empty()))
        throw std::length_error(std::string("beacon ") + what + " must be 1.." +
                                std::to_string(max) + " bytes");
}
}  // namespace

std::vector<std::uint8_t> encode_beacon(const beacon& b) {
    check_length(b.mesh, max_mesh_len, "mesh", false);
    check_length(b.name, max_name_len, "name", false);
    check_length(b.host, max_host_len, "host", true);

    msgpack::sbuffer body;
    msgpack::packer<msgpack::sbuffer> pk(body);
    pk.pack_array(6);
    pk.pack(b.mesh);
    pk.pack_bin(node_id::size);
    pk.pack_bin_body(reinterpret_cast<const char*>(b.id.bytes().data()), node_id::size);
    pk.pack(b.name);
    pk.pack(b.host);
    pk.pack(b.pub_port);
    pk.pack(b.router_port);

    std::vector<std::uint8_t> out(std::begin(beacon_magic), std::end(beacon_magic));
    out.push_back(version);
    out.push_back(0);   // flags
    out.insert(out.end(), body.data(), body.data() + body.size());
    if (out.size() > max_beacon_size) throw std::length_error("beacon over 512 bytes");
    return out;
}

result<beacon> decode_beacon(std::span<const std::uint8_t> d) {
    if (d.size() > max_beacon_size) return errc::oversized;
    if (d.size() < sizeof beacon_magic) return errc::truncated;
    if (!std::equal(std::begin(beacon_magic), std::end(beacon_magic), d.begin()))
        return errc::bad_magic;
    if (d.size() < header_size) return errc::truncated;
    if (d[4] != version) return errc::bad_version;

    auto handle = unpack_exact(d.subspan(header_size));
    if (!handle) return handle.error();
    field_reader r(handle->get(), 6);
    beacon b;
    b.mesh = r.str(max_mesh_len, false);
    b.id = r.id();
    b.name = r.str(max_name_len, false);
    b.host = r.str(max_host_len);
    b.pub_port = static_cast<std::uint16_t>(r.uint(65535));
    b.router_port = static_cast<std::uint16_t>(r.uint(65535));
    if (auto e = r.error()) return *e;
    if (b.pub_port == 0 || b.router_port == 0) return errc::bad_field;
    // The receiver dials this host: refuse what could not be a host rather than fail later.
    if (!b.host.empty() && !valid_host(b.host)) return errc::bad_field;
    return b;
}

}  // namespace zmesh::protocol
