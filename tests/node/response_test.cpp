// SPDX-License-Identifier: MPL-2.0
// response: what a handler returns. A payload passed on is not copied when the node lent it
// to the handler now running (an echo) or when it shares its storage; anything else, and any
// copy of a response, holds bytes of its own, so nothing a handler keeps dangles.
#include "node/rpc/workers.hpp"
#include "protocol/rpc.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace zmesh::test {
namespace {

// Runs `handler` as the node does, on `args` lent to it, for request `id`. Returns: the
// reply built.
detail::rpc_done run(const rpc_handler& handler, std::span<const std::uint8_t> args, std::uint64_t id = 7) {
    static const std::string method = "m", caller = "caller";   // outlive what lends them
    const request lent(lent_string::lend(method), node_id(), lent_string::lend(caller), {}, args, nullptr);
    detail::rpc_done out;
    detail::run_handler(handler, lent, {node_id(), false}, id, {1024}, out);
    return out;
}

const std::vector<std::uint8_t> bin3 = {0xc4, 0x03, 'a', 'b', 'c'};

TEST(response, an_echo_of_the_lent_arguments_refers_to_them) {
    std::vector<std::uint8_t> frame = bin3;   // the request frame the node reads
    const auto out = run([](const request& r) -> response { return r; }, frame);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.body().data(), frame.data());   // not copied
    EXPECT_EQ(out.body().size(), frame.size());
}

TEST(response, part_of_the_lent_arguments_is_passed_on_as_it_is) {
    // An array of two: the handler answers with its second element.
    std::vector<std::uint8_t> frame = {0x92, 0x01, 0xc4, 0x03, 'a', 'b', 'c'};
    const auto out = run([](const request& r) -> response { return payload(r.bytes().subspan(2), nullptr); },
                         frame);
    EXPECT_EQ(out.body().data(), frame.data() + 2);
    EXPECT_EQ(out.body().size(), 5u);
}

TEST(response, bytes_the_handler_borrowed_from_elsewhere_are_copied) {
    std::vector<std::uint8_t> frame = bin3;
    const auto out = run(
        [](const request&) -> response {
            const std::vector<std::uint8_t> local = {0xa2, 'o', 'k'};   // gone when it returns
            return payload(local, nullptr);
        },
        frame);
    ASSERT_TRUE(out.result);
    EXPECT_EQ(std::vector<std::uint8_t>(out.body().begin(), out.body().end()),
              (std::vector<std::uint8_t>{0xa2, 'o', 'k'}));
}

TEST(response, bytes_reaching_past_the_lent_arguments_are_copied) {
    // The lent region is the first 3 bytes of the buffer; a payload over all 5 is not in it.
    std::vector<std::uint8_t> buffer = bin3;
    const auto out = run([&](const request&) -> response { return payload(buffer, nullptr); },
                         std::span<const std::uint8_t>(buffer).first(3));
    EXPECT_NE(out.body().data(), buffer.data());
    EXPECT_EQ(std::vector<std::uint8_t>(out.body().begin(), out.body().end()), bin3);
}

TEST(response, a_shared_payload_is_shared_not_copied) {
    const auto storage = std::make_shared<const std::vector<std::uint8_t>>(bin3);
    const std::vector<std::uint8_t> frame = {0xc0};
    auto out = run([&](const request&) -> response { return payload(*storage, storage); }, frame);
    EXPECT_EQ(out.body().data(), storage->data());
    EXPECT_EQ(storage.use_count(), 2);   // the reply holds it until sent
    out.result.reset();
    EXPECT_EQ(storage.use_count(), 1);
}

TEST(response, a_copy_of_a_response_kept_by_the_handler_owns_its_bytes) {
    std::vector<std::uint8_t> frame = bin3;
    std::optional<response> kept;
    const auto out = run(
        [&](const request& r) -> response {
            const response passed_on = r;
            kept.emplace(passed_on);   // a copy: outlives the frame
            return passed_on;
        },
        frame);
    EXPECT_EQ(out.body().data(), frame.data());
    frame.assign(frame.size(), 0xff);   // the node reads its next frame here
    ASSERT_TRUE(kept);
    EXPECT_EQ(std::vector<std::uint8_t>(kept->bytes().begin(), kept->bytes().end()), bin3);
}

TEST(response, outside_a_handler_a_borrowed_payload_is_copied) {
    std::vector<std::uint8_t> bytes = bin3;
    const response r = payload(bytes, nullptr);
    bytes.assign(bytes.size(), 0xff);
    EXPECT_EQ(std::vector<std::uint8_t>(r.bytes().begin(), r.bytes().end()), bin3);
}

TEST(response, the_reply_frame_reads_back_as_the_reply_in_either_header_form) {
    std::vector<std::uint8_t> frame = bin3;
    // Ids from 2^32 (a node's: slot and use count) take the short form written in place;
    // smaller ones, and long error messages, the packer's.
    for (const std::uint64_t id : {std::uint64_t{7}, (std::uint64_t{3} << 32) | 5}) {
        const auto ok = run([](const request& r) -> response { return r; }, frame, id).frame();
        const auto m = protocol::decode_reply({ok.data<std::uint8_t>(), ok.size()});
        ASSERT_TRUE(m) << id;
        EXPECT_EQ(m->header.id, id);
        EXPECT_EQ(m->header.code, protocol::rpc_ok);
        EXPECT_EQ(std::vector<std::uint8_t>(m->body.begin(), m->body.end()), bin3);
        const std::string why(200, 'w');
        const auto failed = run([&](const request&) -> response { return rpc_error(409, why); }, frame, id).frame();
        const auto e = protocol::decode_reply({failed.data<std::uint8_t>(), failed.size()});
        ASSERT_TRUE(e) << id;
        EXPECT_EQ(e->header.code, 409);
        EXPECT_EQ(e->header.message, why);
        EXPECT_EQ(std::vector<std::uint8_t>(e->body.begin(), e->body.end()), std::vector<std::uint8_t>{0xc0});
    }
}

TEST(response, a_handler_error_has_a_nil_body) {
    const std::vector<std::uint8_t> frame = bin3;
    const auto out = run([](const request&) -> response { return rpc_error(409, "out of stock"); }, frame);
    EXPECT_FALSE(out.result);
    ASSERT_EQ(out.body().size(), 1u);
    EXPECT_EQ(out.body()[0], 0xc0);
}

}  // namespace
}  // namespace zmesh::test
