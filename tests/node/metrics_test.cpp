// SPDX-License-Identifier: MPL-2.0
// The Prometheus exposition (the monitor's and a node's own): families once each, counters as _total with their
// meaning, gauges per member, label values escaped.
#include <zmesh/metrics.hpp>

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

namespace zmesh::test {
namespace {

peer_info member(std::string name, peer_state state) {
    peer_info p;
    p.id = node_id::random();
    p.name = std::move(name);
    p.state = state;
    return p;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST(metrics, reported_counters_become_total_counters_with_their_meaning) {
    auto a = member("orders", peer_state::joined);
    a.reported = {{"events_out", 12}, {"rpc_calls", 3}};
    auto b = member("stock", peer_state::joined);
    b.reported = {{"events_out", 5}};
    const auto text = prometheus_text("shop", {a, b});
    EXPECT_EQ(count_of(text, "# TYPE zmesh_events_out_total counter\n"), 1u);
    EXPECT_NE(text.find("# HELP zmesh_events_out_total events published"), std::string::npos);
    EXPECT_NE(text.find("zmesh_events_out_total{mesh=\"shop\",node=\"orders\",id=\"" + a.id.hex() + "\"} 12\n"),
              std::string::npos);
    EXPECT_NE(text.find("zmesh_events_out_total{mesh=\"shop\",node=\"stock\",id=\"" + b.id.hex() + "\"} 5\n"),
              std::string::npos);
    EXPECT_NE(text.find("zmesh_rpc_calls_total{mesh=\"shop\",node=\"orders\""), std::string::npos);
    EXPECT_EQ(text.find("zmesh_rpc_calls_total{mesh=\"shop\",node=\"stock\""), std::string::npos);
    EXPECT_EQ(text.find("unknown_counter"), std::string::npos);
}

TEST(metrics, members_have_state_rtt_services_and_subscriptions_as_gauges) {
    auto a = member("orders", peer_state::joined);
    a.rtt_us = 250;
    a.last_seen_ms = 1500;
    a.services = {"reserve", "time"};
    a.subscriptions = {"orders."};
    auto b = member("late", peer_state::evasive);
    const auto text = prometheus_text("shop", {a, b});
    EXPECT_NE(text.find("zmesh_peer_joined{mesh=\"shop\",peer=\"orders\",peer_id=\"" + a.id.hex() + "\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("zmesh_peer_joined{mesh=\"shop\",peer=\"late\",peer_id=\"" + b.id.hex() + "\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find(",state=\"evasive\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("zmesh_peer_rtt_seconds{mesh=\"shop\",peer=\"orders\",peer_id=\"" + a.id.hex() + "\"} 0.00025\n"),
              std::string::npos);
    EXPECT_EQ(count_of(text, "zmesh_peer_rtt_seconds{"), 1u);   // b's is unknown: no sample
    EXPECT_NE(text.find("zmesh_peer_last_seen_seconds{mesh=\"shop\",peer=\"orders\",peer_id=\"" + a.id.hex() + "\"} 1.5\n"),
              std::string::npos);
    EXPECT_NE(text.find(",method=\"reserve\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find(",method=\"time\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find(",prefix=\"orders.\"} 1\n"), std::string::npos);
}

TEST(metrics, label_values_from_the_network_are_escaped) {
    EXPECT_EQ(prometheus_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    const auto text = prometheus_text("m\"esh", {member("evil\"}\nzmesh_fake 1", peer_state::joined)});
    EXPECT_EQ(text.find("\nzmesh_fake 1"), std::string::npos);
    EXPECT_NE(text.find("peer=\"evil\\\"}\\nzmesh_fake 1\""), std::string::npos);
}

TEST(metrics, every_line_is_a_comment_or_a_well_formed_sample) {
    auto a = member("orders", peer_state::joined);
    a.reported = {{"events_in", 1}, {"events_out", 2}};
    a.services = {"x"};
    const std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\} [0-9.eE+-]+$)");
    std::istringstream lines(prometheus_text("shop", {a, member("stock", peer_state::joined)}));
    std::set<std::string> typed;
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("# TYPE ")) {
            EXPECT_TRUE(typed.insert(line.substr(7, line.find(' ', 7) - 7)).second) << "family twice: " << line;
            continue;
        }
        if (line.starts_with("# HELP ")) continue;
        EXPECT_TRUE(std::regex_match(line, sample)) << line;
    }
}

}  // namespace
}  // namespace zmesh::test
