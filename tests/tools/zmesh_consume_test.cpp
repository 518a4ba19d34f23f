// SPDX-License-Identifier: MPL-2.0
// zmesh consume's pure parts: where --from starts a consumer, and a message as a line and as
// JSON.
#include "tools/commands.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

stream_message message_of(const std::vector<std::uint8_t>& bytes, std::uint32_t attempt) {
    auto storage = std::make_shared<std::vector<std::uint8_t>>(bytes);
    return stream_message("orders", "billing", node_id{}, 42, attempt, 1'700'000'000'000'000, "",
                          {storage->data(), storage->size()}, storage, {});
}

TEST(zmesh_consume, from_takes_first_new_or_a_sequence_and_nothing_else) {
    consume_options o;
    tool::start_from("first", o);
    EXPECT_EQ(o.start, stream_start::first);
    tool::start_from("new", o);
    EXPECT_EQ(o.start, stream_start::new_messages);
    tool::start_from("17", o);
    EXPECT_EQ(o.start, stream_start::sequence);
    EXPECT_EQ(o.start_sequence, 17u);
    for (const char* bad : {"", "0", "-1", "17x", "last", "1e3"})
        EXPECT_THROW(tool::start_from(bad, o), std::invalid_argument) << bad;
}

TEST(zmesh_consume, a_message_is_a_line_of_seq_attempt_publisher_and_payload) {
    const auto m = message_of(nlohmann::json::to_msgpack({{"n", 7}}), 2);
    EXPECT_EQ(tool::consumed_line(m, "orders"), R"(42 2 orders {"n":7})");
}

TEST(zmesh_consume, json_carries_the_stream_the_attempt_the_publisher_and_when_it_was_stored) {
    const auto m = message_of(nlohmann::json::to_msgpack("hello"), 1);
    const auto j = tool::consumed_json(m, "orders");
    EXPECT_EQ(j["stream"], "orders");
    EXPECT_EQ(j["seq"], 42);
    EXPECT_EQ(j["attempt"], 1);
    EXPECT_EQ(j["publisher"]["name"], "orders");
    EXPECT_EQ(j["publisher"]["id"], node_id{}.hex());
    EXPECT_EQ(j["stored_us"], 1'700'000'000'000'000);
    EXPECT_EQ(j["payload"], "hello");
}

TEST(zmesh_consume, a_payload_json_cannot_express_is_named_not_hidden) {
    const auto m = message_of({0xc1}, 1);   // never used in msgpack
    EXPECT_TRUE(tool::consumed_json(m, "p").contains("payload_error"));
    EXPECT_EQ(tool::consumed_line(m, "p").rfind("42 1 p <", 0), 0u);
}

}  // namespace
}  // namespace zmesh::test
