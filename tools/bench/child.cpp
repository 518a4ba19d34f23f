// SPDX-License-Identifier: MPL-2.0
#include "child.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace zmesh::bench {

std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

std::runtime_error sys_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

int poll_ms_until(clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

child::child(const std::vector<std::string>& args, const std::string& program) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) throw sys_error("pipe");
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        throw sys_error("pipe");
    }
    // argv is built before fork: the child may only call async-signal-safe functions.
    std::vector<char*> argv;
    std::string self = program;
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();

    pid_ = ::fork();
    if (pid_ < 0) throw sys_error("fork");
    if (pid_ == 0) {
        // A benchmark killed half way must not leave its peers running.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(1);
        ::dup2(in[0], STDIN_FILENO);
        ::dup2(out[1], STDOUT_FILENO);
        ::execv(self.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
}

child::~child() {
    if (!reaped_) {
        kill(SIGKILL);
        (void)wait(clock::now() + std::chrono::seconds(5));
    }
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
}

std::optional<std::string> child::read_line(clock::time_point deadline) {
    for (;;) {
        if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return line;
        }
        if (out_ < 0) return std::nullopt;
        pollfd p{out_, POLLIN, 0};
        const int ready = ::poll(&p, 1, poll_ms_until(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return std::nullopt;
        char chunk[4096];
        const auto n = ::read(out_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(out_);
            out_ = -1;
            return std::nullopt;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

std::string child::expect(const std::string& word, clock::time_point deadline,
                          const std::string& what) {
    const std::string head = word + " ";
    while (auto line = read_line(deadline)) {
        if (line->rfind(head, 0) == 0) return line->substr(head.size());
        if (*line == word) return {};
    }
    throw std::runtime_error(what + ": no '" + word + "' from process " + std::to_string(pid_) +
                             (out_ < 0 ? " (it exited)" : " (timed out)"));
}

void child::close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
}

int child::wait(clock::time_point deadline) {
    while (!reaped_) {
        const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
        if (r == pid_ || (r < 0 && errno != EINTR)) {
            reaped_ = true;
            break;
        }
        if (clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            (void)::waitpid(pid_, &status_, 0);
            reaped_ = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return status_;
}

bool child::running() {
    if (reaped_) return false;
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) reaped_ = true;
    return !reaped_;
}

void child::kill(int signal) {
    if (!reaped_) ::kill(pid_, signal);
}

void wait_for_stop() {
    char c[256];
    for (;;) {
        const auto n = ::read(STDIN_FILENO, c, sizeof c);
        if (n == 0 || (n < 0 && errno != EINTR)) return;
    }
}

void say(const std::string& line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

std::uint64_t private_kib(pid_t pid) {
    std::string path = "/proc/";   // not "a" + b + "c": GCC 12 warns (-Wrestrict) wrongly
    path += std::to_string(pid);
    path += "/smaps_rollup";
    std::ifstream rollup(path);
    std::string key;
    std::uint64_t total = 0, kib = 0;
    while (rollup >> key) {
        if (key == "Private_Clean:" || key == "Private_Dirty:") {
            rollup >> kib;
            total += kib;
        }
        rollup.ignore(4096, '\n');
    }
    return total;
}

std::uint64_t rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            std::uint64_t kib = 0;
            status >> kib;
            return kib;
        }
        status.ignore(4096, '\n');
    }
    return 0;
}

std::uint16_t free_loopback_port(int socket_type, const std::string& what) {
    const int fd = ::socket(AF_INET, socket_type, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) throw std::runtime_error("no free port for " + what);
    return ntohs(a.sin_port);
}

}  // namespace zmesh::bench
