// SPDX-License-Identifier: MPL-2.0
// cli: bad flags end a tool at once with a non-zero status and one clear line on stderr.
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace zmesh::test {
namespace {

struct bad_flags_case {
    const char* label;      // names the ctest case
    const char* tool;
    std::vector<std::string> args;
    int status;
    const char* mentions;   // a word the error line must contain
};

// What ctest and a failure show of a case: the command line, not the struct's bytes.
void PrintTo(const bad_flags_case& c, std::ostream* os) {
    *os << c.tool;
    for (const auto& a : c.args) *os << ' ' << a;
}

class bad_flags : public ::testing::TestWithParam<bad_flags_case> {};

TEST_P(bad_flags, exit_non_zero_with_one_line_error) {
    const auto& c = GetParam();
    process p(tool(c.tool), c.args);
    ASSERT_EQ(p.wait(std::chrono::seconds(10)), std::optional<int>(c.status)) << p.err();
    const auto err = p.err();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_NE(err.find("error"), std::string::npos) << err;
    EXPECT_NE(err.find(c.mentions), std::string::npos) << err;
    EXPECT_TRUE(p.out().empty()) << p.out();
}

INSTANTIATE_TEST_SUITE_P(
    tools, bad_flags,
    ::testing::Values(
        bad_flags_case{"node_unknown_flag", "zmesh-node", {"--bogus"}, 2, "bogus"},
        bad_flags_case{"node_port_not_a_number", "zmesh-node", {"--beacon-port", "abc"}, 2, "beacon-port"},
        bad_flags_case{"node_port_out_of_range", "zmesh-node", {"--beacon-port", "70000"}, 1, "beacon-port"},
        bad_flags_case{"node_expire_below_evasive", "zmesh-node", {"--expire", "10"}, 1, "expired"},
        bad_flags_case{"node_empty_mesh", "zmesh-node", {"--mesh", ""}, 1, "mesh"},
        bad_flags_case{"node_seed_without_scheme", "zmesh-node", {"--seed", "localhost:1"}, 1, "seed"},
        bad_flags_case{"node_bad_log_level", "zmesh-node", {"--log-level", "loud"}, 1, "log-level"},
        bad_flags_case{"node_unknown_interface", "zmesh-node", {"--interface", "no-such-if0"}, 1, "no-such-if0"},
        bad_flags_case{"monitor_negative_wait", "zmesh-monitor", {"--wait", "-1"}, 1, "wait"},
        // Durations: a number in the flag's unit, or one with ms or s; nothing else.
        bad_flags_case{"monitor_wait_unknown_unit", "zmesh-monitor", {"--wait", "5h"}, 1, "wait"},
        bad_flags_case{"node_heartbeat_not_a_duration", "zmesh-node", {"--heartbeat", "fast"}, 1, "heartbeat"},
        bad_flags_case{"node_expire_over_a_year", "zmesh-node", {"--expire", "1e12s"}, 1, "expire"},
        bad_flags_case{"call_timeout_unit_only", "zmesh", {"call", "echo", "1", "--timeout", "ms"}, 1, "timeout"},
        bad_flags_case{"monitor_unknown_flag", "zmesh-monitor", {"--once", "--nope"}, 2, "nope"},
        bad_flags_case{"bench_unknown_benchmark", "zmesh-bench", {"nope"}, 2, "nope"},
        bad_flags_case{"bench_no_benchmark", "zmesh-bench", {}, 2, "pubsub"},
        bad_flags_case{"bench_zero_runs", "zmesh-bench", {"pubsub", "--runs", "0"}, 2, "runs"},
        bad_flags_case{"bench_unknown_flag", "zmesh-bench", {"rpc", "--bogus"}, 2, "bogus"},
        bad_flags_case{"bench_negative_settle", "zmesh-bench", {"discovery", "--settle", "-1"}, 2, "settle"},
        bad_flags_case{"bench_hidden_role_unknown", "zmesh-bench", {"_role", "x", "--mesh", "m", "--beacon-port", "1"}, 1, "x"},
        // Whole flags only: an abbreviation is no flag.
        bad_flags_case{"node_abbreviated_flag", "zmesh-node", {"--nam", "x"}, 2, "nam"},
        bad_flags_case{"call_abbreviated_flag", "zmesh", {"call", "--tim", "5", "echo"}, 2, "tim"},
        bad_flags_case{"bench_abbreviated_flag", "zmesh-bench", {"rpc", "--pipe", "5"}, 2, "pipe"},
        // Every argument is used or refused, and a missing one is named as the usage names it.
        bad_flags_case{"call_stray_argument", "zmesh", {"call", "echo", "1", "2"}, 2, "unexpected argument '2'"},
        bad_flags_case{"node_stray_argument", "zmesh-node", {"stray"}, 2, "unexpected argument 'stray'"},
        bad_flags_case{"monitor_stray_argument", "zmesh-monitor", {"--once", "x"}, 2, "unexpected argument 'x'"},
        bad_flags_case{"keygen_stray_argument", "zmesh", {"keygen", "--out", "k", "x"}, 2, "unexpected argument 'x'"},
        bad_flags_case{"call_no_method", "zmesh", {"call"}, 2, "missing METHOD"},
        bad_flags_case{"sub_stray_argument", "zmesh", {"sub", "a.", "b."}, 2, "unexpected argument 'b.'"},
        bad_flags_case{"unknown_command_hint", "zmesh", {"cal"}, 2, "did you mean 'call'"}),
    [](const ::testing::TestParamInfo<bad_flags_case>& info) { return std::string(info.param.label); });

TEST(help, prints_usage_and_exits_zero) {
    for (const char* t : {"zmesh-node", "zmesh-monitor"}) {
        process p(tool(t), {"--help"});
        ASSERT_EQ(p.wait(std::chrono::seconds(10)), std::optional<int>(0));
        EXPECT_NE(p.out().find("usage:"), std::string::npos);
        EXPECT_NE(p.out().find("--mesh"), std::string::npos);
    }
}

TEST(help, a_command_shows_its_own_flags_first_and_the_tuning_ones_on_request) {
    for (const char* command : {"pub", "sub", "call", "reply", "ls", "check", "consume"}) {
        process p(tool("zmesh"), {command, "--help"});
        ASSERT_EQ(p.wait(std::chrono::seconds(10)), std::optional<int>(0)) << command;
        const auto out = p.out();
        const auto own = out.find(std::string("zmesh ") + command + " options");
        const auto mesh = out.find("mesh options");
        ASSERT_NE(own, std::string::npos) << out;
        ASSERT_NE(mesh, std::string::npos) << out;
        EXPECT_LT(own, mesh) << out;
        EXPECT_NE(out.find("Exit:"), std::string::npos) << "the exit statuses: " << out;
        EXPECT_EQ(out.find("--heartbeat"), std::string::npos) << out;
        process all(tool("zmesh"), {command, "--help-all"});
        ASSERT_EQ(all.wait(std::chrono::seconds(10)), std::optional<int>(0));
        EXPECT_NE(all.out().find("--heartbeat"), std::string::npos) << all.out();
    }
}

TEST(help, the_benchmark_hides_what_it_passes_itself) {
    process p(tool("zmesh-bench"), {"--help"});
    ASSERT_EQ(p.wait(std::chrono::seconds(10)), std::optional<int>(0));
    for (const char* internal : {"--command", "--role", "--endpoint", "--key-dir", "--beacon-port"})
        EXPECT_EQ(p.out().find(internal), std::string::npos) << internal << " in\n" << p.out();
    EXPECT_NE(p.out().find("--runs"), std::string::npos);
}

TEST(version, every_tool_prints_the_project_version) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
        {"zmesh", {"--version"}}, {"zmesh", {"call", "--version"}}, {"zmesh-node", {"--version"}},
        {"zmesh-monitor", {"--version"}}, {"zmesh-bench", {"--version"}}};
    for (const auto& [t, args] : cases) {
        process p(tool(t), args);
        ASSERT_EQ(p.wait(std::chrono::seconds(10)), std::optional<int>(0)) << t << p.err();
        EXPECT_EQ(p.out(), t + " " + ZMESH_VERSION + "\n");
    }
}

}  // namespace
}  // namespace zmesh::test
