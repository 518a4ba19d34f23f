// SPDX-License-Identifier: MPL-2.0
// process: a child process a test started, its output captured in files, killed by PID when
// the test ends however it ends.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace zmesh::test {

class process {
public:
    // Starts `path` with `args`; stdout and stderr go to files in a fresh temp directory.
    // Environment: the parent's, plus ZMESH_INTERFACE=lo so no test ever beacons off-host.
    // Throws std::runtime_error when it cannot be started.
    process(const std::string& path, const std::vector<std::string>& args);
    // SIGKILL if still running, then reaped. A sanitizer report the child wrote (on its
    // stderr, or in ASAN_OPTIONS' log_path) fails the current test, shown in full.
    ~process();
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    void signal(int sig) const;

    // Returns: the exit status (as from WEXITSTATUS, or 128+signal), or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();

    std::string out() const;   // everything written to stdout so far
    std::string err() const;
    std::vector<std::string> out_lines() const;

    // Returns: true when some stdout line starts with `prefix` within `timeout`.
    bool wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout) const;
    std::size_t count_lines(const std::string& prefix) const;

private:
    std::string sanitizer_report() const;

    pid_t pid_ = -1;
    std::optional<int> status_;
    std::string dir_;
    std::string name_;   // the program's file name, as ASan's log_exe_name writes it
};

// Returns: the path of a built tool, e.g. tool("zmesh-node").
std::string tool(const std::string& name);

// Returns: the resident set of process `pid` in KiB, from /proc (0 when unreadable).
std::uint64_t rss_kib(pid_t pid);

}  // namespace zmesh::test
