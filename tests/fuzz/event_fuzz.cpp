// SPDX-License-Identifier: MPL-2.0
// event body frame ([header][payload]): any frame decodes or is refused without throwing;
// the payload lies inside the frame, and a decoded header re-encodes to one that decodes
// to the same header.
#include "fuzz_check.hpp"
#include "protocol/event.hpp"

using namespace zmesh::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    auto e = decode_event(frame);
    if (!e) return 0;
    FUZZ_CHECK(e->payload.data() >= data && e->payload.data() + e->payload.size() <= data + size);
    (void)check_payload(e->payload, 1024 * 1024);
    const auto header = encode_event_header(e->header);
    auto back = decode_event(header);
    FUZZ_CHECK(back && back->header == e->header && back->payload.empty());
    return 0;
}
