// SPDX-License-Identifier: MPL-2.0
// The monitor's streams: members' answers folded into rows (dead letters into their stream's
// row), members without streams or that failed to answer, and the table and JSON they give.
#include "stream_poll.hpp"
#include "monitor_view.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

using json = nlohmann::json;

json stream(const std::string& name, const std::string& prefix, std::uint64_t messages, json consumers = json::array()) {
    return {{"name", name}, {"prefix", prefix}, {"first_seq", messages ? 1 : 0}, {"last_seq", messages},
            {"messages", messages}, {"bytes", messages * 10}, {"consumers", consumers}};
}

node_id id(std::uint8_t b) {
    std::array<std::uint8_t, 16> raw{};
    raw.fill(b);
    return node_id(raw);
}

TEST(stream_poll, dead_letters_are_folded_into_their_streams_row_per_publisher) {
    monitor::stream_poll poll;
    const json consumers = json::array({{{"name", "billing"}, {"pending", 3}, {"redeliveries", 2}},
                                        {{"name", "audit"}, {"pending", 1}, {"redeliveries", 0}}});
    poll.take(id(1), "orders", {true, {{"streams", json::array({stream("jobs", "jobs.", 42, consumers),
                                                                stream("jobs.dlq", "", 2)})}}, 0, {}});
    poll.take(id(2), "archive", {true, {{"streams", json::array({stream("old.dlq", "", 5)})}}, 0, {}});
    poll.take(id(3), "plain", {false, nullptr, -32010, "no data directory"});
    const auto rows = poll.rows();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].publisher, "archive");   // a dead-letter stream whose stream is gone: shown
    EXPECT_EQ(rows[0].stream["name"], "old.dlq");
    EXPECT_EQ(rows[1].publisher, "orders");
    EXPECT_EQ(rows[1].dead_letters, 2u);
    const auto lines = monitor::stream_lines(rows);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_NE(lines[2].find("jobs"), std::string::npos);
    EXPECT_NE(lines[2].find("       4        2      2"), std::string::npos) << "pending, redeliveries, dead:\n" << lines[2];
    const auto doc = monitor::document("lab", {}, nullptr, &rows);
    EXPECT_EQ(doc["streams"][1]["publisher"], "orders");
    EXPECT_EQ(doc["streams"][1]["dead_letters"], 2);
}

TEST(stream_poll, a_member_that_fails_to_answer_keeps_what_it_said_last) {
    monitor::stream_poll poll;
    poll.take(id(1), "orders", {true, {{"streams", json::array({stream("jobs", "jobs.", 1)})}}, 0, {}});
    poll.take(id(1), "orders", {false, nullptr, 0, "timeout: no reply"});
    EXPECT_EQ(poll.rows().size(), 1u);
    poll.take(id(1), "orders", {false, nullptr, -32010, "no data directory"});
    EXPECT_TRUE(poll.rows().empty());
    EXPECT_TRUE(poll.answered_all());
}

TEST(stream_poll, the_table_lists_streams_after_the_peers_only_when_there_are_some) {
    peer_info p;
    p.name = "orders";
    p.state = peer_state::joined;
    const std::vector<monitor::stream_row> none;
    const auto empty = monitor::render("lab", {p}, {}, {}, monitor::clock_type::now(), 0, 0, false, false, false, &none);
    EXPECT_EQ(empty.find("PUBLISHER"), std::string::npos);
    const std::vector<monitor::stream_row> rows = {{"orders", stream("jobs", "jobs.", 3), 1}};
    const auto frame = monitor::render("lab", {p}, {}, {}, monitor::clock_type::now(), 0, 0, false, false, false, &rows);
    EXPECT_NE(frame.find("PUBLISHER"), std::string::npos) << frame;
    EXPECT_GT(frame.find("jobs"), frame.find("orders")) << frame;
}

}  // namespace
}  // namespace zmesh::test
