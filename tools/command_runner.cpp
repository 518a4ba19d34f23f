// SPDX-License-Identifier: MPL-2.0
// command_runner: posix_spawn with three pipes, driven by poll until the command ends.
#include "command_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace zmesh::cli {

namespace {

constexpr std::size_t max_err = 4096;

// Both ends close on exec: a command started by another thread meanwhile must not inherit
// them, or our reads would never see end of file.
struct pipe_pair {
    int fd[2] = {-1, -1};
    pipe_pair() {
        if (::pipe2(fd, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    ~pipe_pair() {
        close(0);
        close(1);
    }
    void close(int i) {
        if (fd[i] >= 0) ::close(fd[i]);
        fd[i] = -1;
    }
};

int status_of(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

}  // namespace

command_result run_command(const std::string& command, std::string_view input,
                           std::chrono::steady_clock::time_point deadline, std::size_t max_output,
                           const std::vector<std::pair<std::string, std::string>>& env) {
    pipe_pair in, out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, reset;
    sigemptyset(&none);
    sigemptyset(&reset);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE}) sigaddset(&reset, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &reset);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
    char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};

    pid_t pid = -1;
    const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error(std::string("cannot start /bin/sh: ") + std::strerror(rc));
    in.close(0);
    out.close(1);
    err.close(1);
    if (input.empty()) in.close(1);
    if (in.fd[1] >= 0) ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);

    command_result r;
    bool killed = false;
    const auto kill_group = [&] {
        if (!killed) ::kill(-pid, SIGKILL);
        killed = true;
    };
    std::size_t written = 0;
    char buf[16384];
    while (out.fd[0] >= 0 || err.fd[0] >= 0) {
        pollfd fds[3];
        nfds_t n = 0;
        const auto add = [&](int fd, short events) {
            if (fd >= 0) fds[n++] = {fd, events, 0};
        };
        add(out.fd[0], POLLIN);
        add(err.fd[0], POLLIN);
        add(in.fd[1], POLLOUT);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            r.timed_out = true;
            kill_group();
            break;
        }
        if (::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 100))) < 0 && errno != EINTR) break;
        for (nfds_t i = 0; i < n; ++i) {
            if (!fds[i].revents) continue;
            if (fds[i].fd == in.fd[1]) {
                const auto w = ::write(in.fd[1], input.data() + written, input.size() - written);
                if (w > 0) written += static_cast<std::size_t>(w);
                // Done, or the command closed its stdin without reading it all: fine either way.
                if (written == input.size() || (w < 0 && errno != EAGAIN)) in.close(1);
                continue;
            }
            const bool is_out = fds[i].fd == out.fd[0];
            const auto got = ::read(fds[i].fd, buf, sizeof buf);
            if (got <= 0) {
                if (got == 0 || errno != EAGAIN) (is_out ? out : err).close(0);
                continue;
            }
            if (is_out) {
                r.out.append(buf, static_cast<std::size_t>(got));
                if (r.out.size() > max_output) {
                    r.out.resize(max_output);
                    r.output_too_large = true;
                    kill_group();
                    out.close(0);
                }
            } else {
                r.err.append(buf, static_cast<std::size_t>(got));
                if (r.err.size() > 2 * max_err) r.err.erase(0, r.err.size() - max_err);
            }
        }
    }
    in.close(1);
    // Its output is closed; it may still run (a background child holds nothing of ours).
    int st = 0;
    while (true) {
        const pid_t done = ::waitpid(pid, &st, WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR)) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            r.timed_out = true;
            kill_group();
            while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    r.status = status_of(st);
    if (r.err.size() > max_err) r.err.erase(0, r.err.size() - max_err);
    return r;
}

std::string describe_failure(const command_result& r) {
    std::string s = r.timed_out          ? "timed out (killed at the caller's deadline)"
                    : r.output_too_large ? "wrote more than a reply may hold (killed)"
                    : r.status > 128     ? "killed by signal " + std::to_string(r.status - 128)
                                         : "exited with status " + std::to_string(r.status);
    auto err = r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    if (const auto nl = err.rfind('\n'); nl != std::string::npos) err.erase(0, nl + 1);
    if (!err.empty()) s += ": " + err;
    return s;
}

}  // namespace zmesh::cli
