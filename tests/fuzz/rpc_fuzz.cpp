// SPDX-License-Identifier: MPL-2.0
// RPC frames: any bytes decode as a REQUEST or a REPLY, or are refused, without throwing;
// what decodes encodes again to a frame of the size the encoder said, which decodes to the
// same header and body.
#include "fuzz_check.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>
#include <vector>

using namespace zmesh::protocol;

namespace {

template <class Message>
bool same(const Message& a, const Message& b) {
    return a.header == b.header && std::equal(a.body.begin(), a.body.end(), b.body.begin(), b.body.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    if (auto m = decode_request(frame)) {
        FUZZ_CHECK(m->body.data() >= frame.data() && m->body.data() + m->body.size() == frame.data() + size);
        std::vector<std::uint8_t> again(request_size(m->header, m->body.size()));
        encode_request(m->header, m->body, again);
        const auto back = decode_request(again);
        FUZZ_CHECK(back && same(*back, *m));
        // Encoded again in place with another id, as a caller finishes its frame.
        encode_request({~m->header.id, back->header.method, back->header.timeout_ms}, back->body, again);
        const auto moved = decode_request(again);
        FUZZ_CHECK(moved && moved->header.id == ~m->header.id && moved->header.method == m->header.method &&
                   std::equal(moved->body.begin(), moved->body.end(), m->body.begin(), m->body.end()));
    }
    if (auto m = decode_reply(frame)) {
        FUZZ_CHECK(m->body.data() >= frame.data() && m->body.data() + m->body.size() == frame.data() + size);
        std::vector<std::uint8_t> again(reply_size(m->header, m->body.size()));
        encode_reply(m->header, m->body, again);
        const auto back = decode_reply(again);
        FUZZ_CHECK(back && same(*back, *m));
    }
    return 0;
}
