// SPDX-License-Identifier: MPL-2.0
// command_runner: a command gets its input and environment, its output and status come back,
// and one that overruns its deadline or its output bound is killed with its children.
#include "tools/command_runner.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

TEST(command_runner, passes_input_and_environment_and_takes_output) {
    const auto r = cli::run_command("read line; echo \"$ZMESH_METHOD:$line\"", "{\"a\":1}\n", clock_type::now() + 20s,
                                    1024, {{"ZMESH_METHOD", "m"}});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "m:{\"a\":1}\n");
    EXPECT_FALSE(r.timed_out);
}

TEST(command_runner, a_large_input_and_output_flow_both_ways_without_deadlock) {
    const std::string input(1 << 20, 'x');
    const auto r = cli::run_command("cat", input, clock_type::now() + 30s, 2 << 20);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.size(), input.size());
}

TEST(command_runner, reports_a_failing_command_with_its_last_stderr_line) {
    const auto r = cli::run_command("echo first >&2; echo 'no such order' >&2; exit 3", "", clock_type::now() + 20s, 1024);
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(cli::describe_failure(r), "exited with status 3: no such order");
}

TEST(command_runner, kills_a_command_and_its_children_at_the_deadline) {
    const auto t0 = clock_type::now();
    const auto r = cli::run_command("sleep 30 & sleep 30", "", t0 + 300ms, 1024);
    EXPECT_TRUE(r.timed_out);
    EXPECT_LT(clock_type::now() - t0, 10s);
    EXPECT_NE(cli::describe_failure(r).find("timed out"), std::string::npos);
}

TEST(command_runner, kills_a_command_whose_output_passes_the_bound) {
    const auto r = cli::run_command("yes", "", clock_type::now() + 20s, 4096);
    EXPECT_TRUE(r.output_too_large);
    EXPECT_EQ(r.out.size(), 4096u);
}

TEST(command_runner, signals_are_unblocked_and_default_in_the_command) {
    // This process (a tool) blocks SIGTERM and ignores SIGPIPE; the command must not inherit it.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    const auto r = cli::run_command("kill -TERM $$; sleep 5", "", clock_type::now() + 20s, 1024);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    EXPECT_EQ(r.status, 128 + SIGTERM);
}

}  // namespace
}  // namespace zmesh::test
