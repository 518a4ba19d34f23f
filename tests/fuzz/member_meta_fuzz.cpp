// SPDX-License-Identifier: MPL-2.0
// member_meta: any meta decodes or is refused without throwing; a decoded one encodes to a
// meta that decodes to the same content, every service kept.
#include "fuzz_check.hpp"
#include "protocol/member_meta.hpp"

using namespace zmesh::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = decode_member_meta(std::span<const std::uint8_t>(data, size));
    if (!m) return 0;
    const auto again = encode_member_meta(*m);
    FUZZ_CHECK(again.size() <= max_gossip_meta);
    auto back = decode_member_meta(std::span(reinterpret_cast<const std::uint8_t*>(again.data()), again.size()));
    FUZZ_CHECK(back && *back == *m);
    return 0;
}
