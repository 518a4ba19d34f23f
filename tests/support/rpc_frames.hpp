// SPDX-License-Identifier: MPL-2.0
// rpc_frames: REQUEST and REPLY frames as byte vectors, for tests that build frames to send
// or to compare (the encoders write into a buffer their caller sized).
#pragma once

#include "protocol/rpc.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace zmesh::test {

// Returns: the REQUEST frame of `h` and `body`. Throws as protocol::encode_request.
inline std::vector<std::uint8_t> encoded_request(const protocol::request_header& h,
                                                 std::span<const std::uint8_t> body = {}) {
    std::vector<std::uint8_t> frame(protocol::request_size(h, body.size()));
    protocol::encode_request(h, body, frame);
    return frame;
}

// Returns: the REPLY frame of `h` and `body`. Throws as protocol::encode_reply.
inline std::vector<std::uint8_t> encoded_reply(const protocol::reply_header& h,
                                               std::span<const std::uint8_t> body = {}) {
    std::vector<std::uint8_t> frame(protocol::reply_size(h, body.size()));
    protocol::encode_reply(h, body, frame);
    return frame;
}

}  // namespace zmesh::test
