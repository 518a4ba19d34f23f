// SPDX-License-Identifier: MPL-2.0
// child: one peer process of a benchmark — this same program run with a hidden role — and
// the line protocol it speaks with the parent:
//   the child writes lines on stdout ("ready ...", "result {json}", ...) and runs until its
//   stdin closes (the parent's "stop"), or until the parent dies (it gets SIGTERM then).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zmesh::bench {

using clock = std::chrono::steady_clock;

// Returns: CLOCK_MONOTONIC in ns; one clock for every process of the host, so a child's
// timestamps compare with the parent's and each other's.
std::int64_t now_ns();

class child {
public:
    // Starts `program` (a path; this program by default) with `args`; stderr is shared with
    // ours. Throws std::runtime_error when it cannot.
    explicit child(const std::vector<std::string>& args, const std::string& program = "/proc/self/exe");
    ~child();   // SIGKILLs it if it is still running, and reaps it
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    pid_t pid() const { return pid_; }

    // Returns: the next line it wrote (without the newline); nullopt at `deadline`, or when
    // it closed its stdout (exited).
    std::optional<std::string> read_line(clock::time_point deadline);

    // Returns: the rest of the next line that starts with "`word` " (lines before it are
    // skipped). Throws std::runtime_error naming `what` at `deadline` or when it exited.
    std::string expect(const std::string& word, clock::time_point deadline, const std::string& what);

    // Returns: whether it has not exited yet (reaps it when it has).
    bool running();
    // Closes its stdin: "stop". It should exit soon after.
    void close_stdin();
    // Returns: its exit status; SIGKILLs it first when it did not exit by `deadline`.
    int wait(clock::time_point deadline);
    void kill(int signal);

private:
    pid_t pid_ = -1;
    int in_ = -1;    // its stdin, our end
    int out_ = -1;   // its stdout, our end
    std::string buffer_;
    bool reaped_ = false;
    int status_ = 0;
};

// Child side: blocks until stdin closes (the parent's "stop" or death).
void wait_for_stop();
// Child side: writes one line to stdout and flushes it. Thread-safe.
void say(const std::string& line);

// Returns: a port on loopback free right now for `socket_type` (SOCK_STREAM, SOCK_DGRAM).
// Throws std::runtime_error naming `what` it was for when there is none.
std::uint16_t free_loopback_port(int socket_type, const std::string& what);

// Returns: the resident set size of process `pid` in KiB from /proc, or 0 if unreadable.
std::uint64_t rss_kib(pid_t pid);
// Returns: the memory only process `pid` holds, in KiB (smaps_rollup Private_Clean +
// Private_Dirty: RSS without the library pages it shares with every other process), or 0.
std::uint64_t private_kib(pid_t pid);

}  // namespace zmesh::bench
