// SPDX-License-Identifier: MPL-2.0
// command_runner: runs a shell command with an input on its stdin and takes its output, for
// zmesh reply, bounded in time and in output.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zmesh::cli {

struct command_result {
    int status = -1;                 // exit status, or 128 + the signal that ended it
    bool timed_out = false;          // killed at the deadline
    bool output_too_large = false;   // killed: stdout passed max_output
    std::string out;                 // stdout, at most max_output bytes
    std::string err;                 // the end of stderr, at most 4 KiB
};

// Runs `command` with /bin/sh -c in a process group of its own, `input` on its stdin, the
// environment of this process plus `env`, default signal handling and no blocked signals
// (whatever this process set). Kills the group with SIGKILL at `deadline`, or as soon as
// stdout passes `max_output` bytes. Safe to call from several threads at once.
// Throws std::runtime_error when the shell cannot be started.
command_result run_command(const std::string& command, std::string_view input,
                           std::chrono::steady_clock::time_point deadline, std::size_t max_output,
                           const std::vector<std::pair<std::string, std::string>>& env = {});

// Returns: one line on how `r` failed ("exited with status 3", "killed by signal 9", "timed
// out", ...) followed by ": " and the last line of its stderr when there is one.
std::string describe_failure(const command_result& r);

}  // namespace zmesh::cli
