// SPDX-License-Identifier: MPL-2.0
// cli: the stats JSON the tools print (zmesh-node's exit line, the built-in "stats" method)
// carries every counter of node_stats with its value; bodies given on the command line.
#include "support/distinct_stats.hpp"
#include "tools/cli.hpp"
#include "tools/receipt.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace zmesh::test {
namespace {

TEST(cli_json, stats_carry_every_counter_with_its_value) {
    nlohmann::json want = nlohmann::json::object();
    for (const auto& [name, value] : distinct_pairs()) want[name] = value;
    EXPECT_EQ(cli::to_json(distinct_stats()), want);
}

TEST(cli_body, json_is_taken_as_it_is_and_a_bare_word_is_a_string) {
    EXPECT_EQ(cli::parse_body(R"({"id": 7})"), nlohmann::json({{"id", 7}}));
    EXPECT_EQ(cli::parse_body("[1, 2]"), nlohmann::json::array({1, 2}));
    EXPECT_EQ(cli::parse_body("42"), 42);
    EXPECT_EQ(cli::parse_body("null"), nullptr);
    EXPECT_EQ(cli::parse_body(R"("quoted")"), "quoted");
    EXPECT_EQ(cli::parse_body("hello"), "hello");
    EXPECT_EQ(cli::parse_body("hello world"), "hello world");
    EXPECT_EQ(cli::parse_body("1.2.3"), "1.2.3");
    EXPECT_EQ(cli::parse_body(""), "");
}

TEST(cli_body, text_that_starts_as_json_but_is_not_is_an_error) {
    for (const char* bad : {"{not json", "[1, 2", "\"open", "  {\"a\": }"})
        EXPECT_THROW((void)cli::parse_body(bad), std::invalid_argument) << bad;
}

TEST(cli_body, a_dash_reads_stdin_and_drops_the_newline_of_plain_text) {
    std::istringstream json_in("{\"a\": [1, 2]}\n");
    EXPECT_EQ(cli::body_to_msgpack("-", json_in), nlohmann::json::to_msgpack({{"a", {1, 2}}}));
    std::istringstream text_in("hello\n");
    EXPECT_EQ(cli::body_to_msgpack("-", text_in), nlohmann::json::to_msgpack("hello"));
    std::istringstream unused("ignored");
    EXPECT_EQ(cli::body_to_msgpack("hi", unused), nlohmann::json::to_msgpack("hi"));
    EXPECT_EQ(cli::parse_text("two\nlines\n"), "two\nlines");
}

TEST(sub_receipt, short_of_count_or_missed_events_exit_non_zero_and_say_so) {
    cli::receipt r{10, 10, 0, 0, false, false};
    EXPECT_EQ(cli::exit_status(r), 0);
    EXPECT_EQ(cli::report(r), "received 10 of 10 event(s), 0 gap(s) (events missed), 0 invalid\n");
    r.received = 7;
    r.interrupted = true;
    EXPECT_EQ(cli::exit_status(r), 1);
    EXPECT_NE(cli::report(r).find("interrupted with 7 of 10"), std::string::npos) << cli::report(r);
    r = {10, 10, 3, 0, false, false};   // the count came, but three of the publisher's did not
    EXPECT_EQ(cli::exit_status(r), 1);
    EXPECT_NE(cli::report(r).find("3 event(s) missed"), std::string::npos) << cli::report(r);
    r = {0, 5, 0, 0, false, true};      // no count: a signal is how it ends
    EXPECT_EQ(cli::exit_status(r), 0);
    r = {0, 5, 0, 0, true, false};      // nor is --timeout without a count a failure
    EXPECT_EQ(cli::exit_status(r), 0);
}

}  // namespace
}  // namespace zmesh::test
