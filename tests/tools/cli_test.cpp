// SPDX-License-Identifier: MPL-2.0
// cli: the stats JSON the tools print (zmesh-node's exit line, the built-in "stats" method)
// carries every counter of node_stats with its value.
#include "support/distinct_stats.hpp"
#include "tools/cli.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

TEST(cli_json, stats_carry_every_counter_with_its_value) {
    nlohmann::json want = nlohmann::json::object();
    for (const auto& [name, value] : distinct_pairs()) want[name] = value;
    EXPECT_EQ(cli::to_json(distinct_stats()), want);
}

}  // namespace
}  // namespace zmesh::test
