// SPDX-License-Identifier: MPL-2.0
// gossip: any datagram decodes or is refused without throwing; a decoded one encodes to a
// datagram that decodes to the same content, every update kept.
#include "fuzz_check.hpp"
#include "protocol/gossip.hpp"

using namespace zmesh::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto g = decode_gossip(std::span<const std::uint8_t>(data, size));
    if (!g) return 0;
    std::size_t written = 0;
    const auto again = encode_gossip(*g, &written);
    FUZZ_CHECK(written == g->message.updates.size());
    auto back = decode_gossip(again);
    FUZZ_CHECK(back && *back == *g);
    return 0;
}
