// SPDX-License-Identifier: MPL-2.0
// stream frames (CONSUME, ANSWER, DELIVER, SETTLE, END): any bytes decode as one of them or
// are refused without throwing; what decodes encodes again, in a frame of the size the
// encoder said, to the same message; a DELIVER's payload is a view into the frame it came in.
#include "fuzz_check.hpp"
#include "protocol/stream.hpp"

#include <algorithm>
#include <vector>

using namespace zmesh::protocol;

namespace {

bool same(const stream_deliver& a, const stream_deliver& b) {
    return a.stream == b.stream && a.consumer == b.consumer && a.seq == b.seq && a.attempt == b.attempt &&
           a.time_us == b.time_us && a.key == b.key &&
           std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
}

template <class Message, class Decode>
void round_trip(const Message& m, Decode decode) {
    const auto again = encode_stream_frame(m);
    FUZZ_CHECK(again.size() == stream_frame_size(m));
    const auto back = decode(again);
    FUZZ_CHECK(back && *back == m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    if (auto m = decode_stream_consume(frame)) round_trip(*m, decode_stream_consume);
    if (auto m = decode_stream_answer(frame)) round_trip(*m, decode_stream_answer);
    if (auto m = decode_stream_settle(frame)) round_trip(*m, decode_stream_settle);
    if (auto m = decode_stream_end(frame)) round_trip(*m, decode_stream_end);
    if (auto m = decode_stream_deliver(frame, 4096)) {
        FUZZ_CHECK(m->payload.data() >= frame.data() && m->payload.data() + m->payload.size() <= frame.data() + size);
        const auto again = encode_stream_frame(*m);
        const auto back = decode_stream_deliver(again, 4096);
        FUZZ_CHECK(back && same(*back, *m));
    }
    return 0;
}
