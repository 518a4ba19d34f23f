// SPDX-License-Identifier: MPL-2.0
// control frames (HELLO, PING, PONG, LEAVE, PEERS, SUBS, STATS_QUERY, STATS, MEMBERS): any frame
// decodes or is refused without throwing; what decodes re-encodes to the same message.
#include "fuzz_check.hpp"
#include "protocol/control.hpp"

using namespace zmesh::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    (void)peek_header(frame);
    auto msg = decode_control(frame);
    if (!msg) return 0;
    const auto again = encode_control(*msg);
    auto back = decode_control(again);
    FUZZ_CHECK(back && *back == *msg);
    return 0;
}
