// SPDX-License-Identifier: MPL-2.0
// RPC frames: any bytes decode as a request or a reply (header alone, or header and body),
// or are refused, without throwing; what decodes re-encodes to the same header and body.
#include "fuzz_check.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>

using namespace zmesh::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    if (auto r = decode_request_header(frame)) {
        auto back = decode_request_header(encode_request_header(*r));
        FUZZ_CHECK(back && *back == *r);
    }
    if (auto r = decode_reply_header(frame)) {
        auto back = decode_reply_header(encode_reply_header(*r));
        FUZZ_CHECK(back && *back == *r);
    }
    if (auto m = decode_request(frame)) {
        FUZZ_CHECK(m->body.data() >= frame.data() && m->body.data() + m->body.size() == frame.data() + size);
        const auto again = encode_request(m->header, m->body);
        auto back = decode_request(again);
        FUZZ_CHECK(back && back->header == m->header &&
                   std::equal(back->body.begin(), back->body.end(), m->body.begin(), m->body.end()));
    }
    if (auto m = decode_reply(frame)) {
        FUZZ_CHECK(m->body.data() + m->body.size() == frame.data() + size);
        const auto again = encode_reply(m->header, m->body);
        auto back = decode_reply(again);
        FUZZ_CHECK(back && back->header == m->header &&
                   std::equal(back->body.begin(), back->body.end(), m->body.begin(), m->body.end()));
    }
    return 0;
}
