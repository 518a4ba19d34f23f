// SPDX-License-Identifier: MPL-2.0
// beacon: any datagram decodes or is refused without throwing; a decoded beacon encodes to a
// datagram that decodes to the same beacon, and a MAC check never crashes.
#include "fuzz_check.hpp"
#include "protocol/beacon.hpp"

#include <string_view>

using namespace zmesh::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> datagram(data, size);
    static constexpr std::string_view secret = "fuzzing mesh secret";
    const std::span<const std::uint8_t> key(reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size());
    (void)beacon_mac_ok(datagram, key);
    auto b = decode_beacon(datagram);
    if (!b) return 0;
    const auto again = b->is_signed ? encode_signed_beacon(*b, b->sent_us, key) : encode_beacon(*b);
    auto back = decode_beacon(again);
    FUZZ_CHECK(back && *back == *b);
    if (b->is_signed) FUZZ_CHECK(beacon_mac_ok(again, key));
    return 0;
}
