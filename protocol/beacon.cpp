// SPDX-License-Identifier: MPL-2.0
// beacon: encode and strictly decode the discovery datagram.
#include "beacon.hpp"

#include "endpoint.hpp"
#include "msgpack_io.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>

namespace zmesh::protocol {

namespace {
constexpr std::size_t header_size = 6;

void check_length(const std::string& s, std::size_t max, const char* what, bool allow_empty) {
    if (s.size() > max || (!allow_empty && s.empty()))
        throw std::length_error(std::string("beacon ") + what + " must be 1.." +
                                std::to_string(max) + " bytes");
}

// The datagram up to the end of its msgpack array: with 7 fields when `sent_us` is given.
std::vector<std::uint8_t> encode_body(const beacon& b, std::optional<std::uint64_t> sent_us) {
    check_length(b.mesh, max_mesh_len, "mesh", false);
    check_length(b.name, max_name_len, "name", false);
    check_length(b.host, max_host_len, "host", true);

    msgpack::sbuffer body;
    msgpack::packer<msgpack::sbuffer> pk(body);
    pk.pack_array(sent_us ? 7 : 6);
    pk.pack(b.mesh);
    pk.pack_bin(node_id::size);
    pk.pack_bin_body(reinterpret_cast<const char*>(b.id.bytes().data()), node_id::size);
    pk.pack(b.name);
    pk.pack(b.host);
    pk.pack(b.pub_port);
    pk.pack(b.router_port);
    if (sent_us) pk.pack(*sent_us);

    std::vector<std::uint8_t> out(std::begin(beacon_magic), std::end(beacon_magic));
    out.push_back(version);
    out.push_back(static_cast<std::uint8_t>((sent_us ? beacon_flag_signed : 0) | (b.asking ? beacon_flag_asking : 0)));
    out.insert(out.end(), body.data(), body.data() + body.size());
    return out;
}

std::array<std::uint8_t, beacon_mac_size> mac_of(std::span<const std::uint8_t> message,
                                                 std::span<const std::uint8_t> secret) {
    static const bool ready = sodium_init() >= 0;   // once, thread-safe
    (void)ready;
    std::array<std::uint8_t, beacon_mac_size> mac{};
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret.data(), secret.size());
    crypto_auth_hmacsha256_update(&st, message.data(), message.size());
    crypto_auth_hmacsha256_final(&st, mac.data());
    return mac;
}

}  // namespace

std::vector<std::uint8_t> encode_beacon(const beacon& b) {
    auto out = encode_body(b, std::nullopt);
    if (out.size() > max_beacon_size) throw std::length_error("beacon over 512 bytes");
    return out;
}

std::vector<std::uint8_t> encode_signed_beacon(const beacon& b, std::uint64_t sent_us,
                                               std::span<const std::uint8_t> secret) {
    if (secret.size() < min_mesh_secret_size)
        throw std::invalid_argument("mesh secret must be at least 16 bytes");
    auto out = encode_body(b, sent_us);
    const auto mac = mac_of(out, secret);
    out.insert(out.end(), mac.begin(), mac.end());
    if (out.size() > max_beacon_size) throw std::length_error("beacon over 512 bytes");
    return out;
}

bool beacon_mac_ok(std::span<const std::uint8_t> d, std::span<const std::uint8_t> secret) {
    if (d.size() < header_size + beacon_mac_size || !(d[5] & beacon_flag_signed) ||
        secret.size() < min_mesh_secret_size)
        return false;
    const auto message = d.first(d.size() - beacon_mac_size);
    const auto mac = mac_of(message, secret);
    return sodium_memcmp(mac.data(), d.data() + message.size(), beacon_mac_size) == 0;
}

result<beacon> decode_beacon(std::span<const std::uint8_t> d) {
    if (d.size() > max_beacon_size) return errc::oversized;
    if (d.size() < sizeof beacon_magic) return errc::truncated;
    if (!std::equal(std::begin(beacon_magic), std::end(beacon_magic), d.begin()))
        return errc::bad_magic;
    if (d.size() < header_size) return errc::truncated;
    if (d[4] != version) return errc::bad_version;
    const bool is_signed = d[5] & beacon_flag_signed;
    if (is_signed && d.size() < header_size + beacon_mac_size) return errc::truncated;

    auto handle = unpack_exact(d.subspan(header_size, d.size() - header_size -
                                                          (is_signed ? beacon_mac_size : 0)));
    if (!handle) return handle.error();
    field_reader r(handle->get(), 6);
    beacon b;
    b.mesh = r.str(max_mesh_len, false);
    b.id = r.id();
    b.name = r.str(max_name_len, false);
    b.host = r.str(max_host_len);
    b.pub_port = static_cast<std::uint16_t>(r.uint(65535));
    b.router_port = static_cast<std::uint16_t>(r.uint(65535));
    b.is_signed = is_signed;
    b.asking = d[5] & beacon_flag_asking;
    if (is_signed) b.sent_us = r.uint(UINT64_MAX);
    if (auto e = r.error()) return *e;
    if (b.pub_port == 0 || b.router_port == 0) return errc::bad_field;
    // The receiver dials this host: refuse what could not be a host rather than fail later.
    if (!b.host.empty() && !valid_host(b.host)) return errc::bad_field;
    return b;
}

}  // namespace zmesh::protocol
