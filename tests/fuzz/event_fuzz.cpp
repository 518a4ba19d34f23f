// SPDX-License-Identifier: MPL-2.0
// event frame (topic 00 header payload): any frame decodes or is refused without throwing;
// topic and payload lie inside the frame, and a decoded event re-encodes to a frame that
// decodes to the same topic, header and payload. The body alone (what follows the 00) is
// checked the same way.
#include "fuzz_check.hpp"
#include "protocol/event.hpp"

#include <algorithm>

using namespace zmesh::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    if (const auto f = decode_event_frame(frame)) {
        const auto* topic = reinterpret_cast<const std::uint8_t*>(f->topic.data());
        FUZZ_CHECK(topic == data && !f->topic.empty() && f->topic.size() <= 255);
        FUZZ_CHECK(f->payload.data() + f->payload.size() == data + size);
        const auto again = encode_event_frame(f->topic, f->header, f->payload);
        const auto back = decode_event_frame(again);
        FUZZ_CHECK(back && back->topic == f->topic && back->header == f->header &&
                   std::equal(back->payload.begin(), back->payload.end(), f->payload.begin(),
                              f->payload.end()));
    }
    auto e = decode_event(frame);
    if (!e) return 0;
    FUZZ_CHECK(e->payload.data() >= data && e->payload.data() + e->payload.size() <= data + size);
    (void)check_payload(e->payload, 1024 * 1024);
    const auto header = encode_event_header(e->header);
    auto back = decode_event(header);
    FUZZ_CHECK(back && back->header == e->header && back->payload.empty());
    return 0;
}
