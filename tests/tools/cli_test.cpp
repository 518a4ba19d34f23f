// SPDX-License-Identifier: MPL-2.0
// cli: the stats JSON the tools print (zmesh-node's exit line, the built-in "stats" method)
// carries every counter of node_stats with its value; zmesh sub's receipt.
#include "support/distinct_stats.hpp"
#include "tools/cli.hpp"
#include "tools/receipt.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

TEST(cli_json, stats_carry_every_counter_with_its_value) {
    nlohmann::json want = nlohmann::json::object();
    for (const auto& [name, value] : distinct_pairs()) want[name] = value;
    EXPECT_EQ(cli::to_json(distinct_stats()), want);
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
