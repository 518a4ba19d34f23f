// SPDX-License-Identifier: MPL-2.0
// RPC headers: any frame decodes as a request or a reply header, or is refused, without
// throwing; what decodes re-encodes to the same header.
#include "fuzz_check.hpp"
#include "protocol/rpc.hpp"

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
    return 0;
}
