// SPDX-License-Identifier: MPL-2.0
// response: what a handler returns. A payload passed on is not copied when the node lent it
// to the handler now running (an echo) or when it shares its storage; anything else, and any
// copy of a response, holds bytes of its own, so nothing a handler keeps dangles.
#include "node/workers.hpp"
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
    detail::run_handler(handler, lent, {node_id(), false}, id, 1024, out);
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
        const auto m = protocol::read_reply({ok.data<std::uint8_t>(), ok.size()});
        ASSERT_TRUE(m) << id;
        EXPECT_EQ(m->header.id, id);
        EXPECT_EQ(m->header.code, protocol::rpc_ok);
        EXPECT_EQ(std::vector<std::uint8_t>(m->body.begin(), m->body.end()), bin3);
        const std::string why(200, 'w');
        const auto failed = run([&](const request&) -> response { return rpc_error(409, why); }, frame, id).frame();
        const auto e = protocol::read_reply({failed.data<std::uint8_t>(), failed.size()});
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

// A REQUEST frame as the node reads it, in a message: the header of `method`, then `args`.
zmq::message_t request_frame(std::string_view method, std::uint64_t timeout_ms, const std::vector<std::uint8_t>& args) {
    std::vector<std::uint8_t> header;
    protocol::append_request_header_open_id(method, timeout_ms, header);
    return detail::rpc_frame(header, args);
}

std::span<const std::uint8_t> tail(const zmq::message_t& frame, std::size_t size) {
    return std::span(frame.data<std::uint8_t>(), frame.size()).last(size);
}

std::vector<std::uint8_t> bytes_of(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

std::span<std::uint8_t> writable(zmq::message_t& frame) { return {frame.data<std::uint8_t>(), frame.size()}; }

constexpr std::uint64_t node_call_id = (std::uint64_t{3} << 32) | 5;   // a slot and a use count

TEST(reply_in_place, an_echo_goes_back_in_its_request_frame) {
    // Request headers from one byte longer than the reply's (a nil filler) to a long method's.
    const std::pair<std::string, std::uint64_t> requests[] = {
        {"a", 5}, {"bench.echo", 60000}, {std::string(31, 'm'), 0xffffffff}, {std::string(128, 'm'), 1}};
    for (const auto& [method, timeout] : requests) {
        auto frame = request_frame(method, timeout, bin3);
        const auto* const before = frame.data<std::uint8_t>();
        const auto args = tail(frame, bin3.size());
        const auto out = run([](const request& r) -> response { return r; }, args, node_call_id);
        ASSERT_TRUE(detail::reply_in_place(out, writable(frame))) << method;
        EXPECT_EQ(frame.data<std::uint8_t>(), before);
        const auto m = protocol::read_reply({frame.data<std::uint8_t>(), frame.size()});
        ASSERT_TRUE(m) << method;
        EXPECT_EQ(m->header.id, node_call_id);
        EXPECT_EQ(m->header.code, protocol::rpc_ok);
        EXPECT_EQ(m->body.data(), args.data());   // where it lay
        EXPECT_EQ(bytes_of(m->body), bin3);
    }
}

TEST(reply_in_place, the_last_of_the_arguments_goes_back_in_place_and_nothing_else_does) {
    const std::vector<std::uint8_t> pair = {0x92, 0x01, 0xc4, 0x03, 'a', 'b', 'c'};   // [1, bin3]
    const auto answer = [&](const rpc_handler& handler, std::uint64_t id = node_call_id) {
        auto frame = request_frame("m", 100, pair);
        const auto sent = bytes_of(tail(frame, frame.size()));
        const bool in_place = detail::reply_in_place(run(handler, tail(frame, pair.size()), id), writable(frame));
        if (!in_place) {
            EXPECT_EQ(bytes_of(tail(frame, frame.size())), sent);   // untouched
        }
        return std::pair(in_place, std::move(frame));
    };
    const auto [last, frame] = answer([](const request& r) -> response { return payload(r.bytes().subspan(2), nullptr); });
    ASSERT_TRUE(last);
    const auto m = protocol::read_reply({frame.data<std::uint8_t>(), frame.size()});
    ASSERT_TRUE(m);
    EXPECT_EQ(bytes_of(m->body), bin3);
    // Not the tail; bytes of its own; an error; an id with no short form of the header.
    EXPECT_FALSE(answer([](const request& r) -> response { return payload(r.bytes().subspan(1, 1), nullptr); }).first);
    EXPECT_FALSE(answer([](const request&) -> response { return 1; }).first);
    EXPECT_FALSE(answer([](const request&) -> response { return rpc_error(409, "no"); }).first);
    EXPECT_FALSE(answer([](const request& r) -> response { return r; }, 7).first);
}

TEST(reply_in_place, a_result_further_from_the_header_than_a_filler_reaches_is_built_apart) {
    for (const std::size_t skipped : {200, 300}) {
        // [bin of `skipped` bytes, true]: the handler answers with the true at the end.
        std::vector<std::uint8_t> args = {0x92, 0xc5, static_cast<std::uint8_t>(skipped >> 8),
                                          static_cast<std::uint8_t>(skipped & 0xff)};
        args.resize(args.size() + skipped, 0x5a);
        args.push_back(0xc3);
        auto frame = request_frame("m", 100, args);
        const auto out = run([](const request& r) -> response { return payload(r.bytes().last(1), nullptr); },
                             tail(frame, args.size()), node_call_id);
        EXPECT_EQ(detail::reply_in_place(out, writable(frame)), skipped == 200) << skipped;
    }
}

}  // namespace
}  // namespace zmesh::test
