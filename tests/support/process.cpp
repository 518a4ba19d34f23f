// SPDX-License-Identifier: MPL-2.0
// process: posix_spawn with redirected output, reaped by PID.
#include "process.hpp"

#include "wait.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace zmesh::test {

namespace {
std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Returns: the value of `key=` in a sanitizer's colon-separated options, or "".
std::string sanitizer_option(const char* variable, const std::string& key) {
    const char* options = std::getenv(variable);
    if (!options) return {};
    std::istringstream in(options);
    std::string item;
    while (std::getline(in, item, ':'))
        if (item.rfind(key + "=", 0) == 0) return item.substr(key.size() + 1);
    return {};
}

// Returns: `text` from the line holding the first sanitizer report on, or "".
std::string report_in(const std::string& text) {
    for (const char* key : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
        const auto at = text.find(key);
        if (at == std::string::npos) continue;
        const auto line = text.rfind('\n', at);
        return text.substr(line == std::string::npos ? 0 : line + 1, 4000);
    }
    return {};
}
}  // namespace

std::string tool(const std::string& name) { return std::string(ZMESH_BIN_DIR) + "/" + name; }

process::process(const std::string& path, const std::vector<std::string>& args) {
    char tmpl[] = "/tmp/zmesh-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    name_ = std::filesystem::path(path).filename().string();

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, (dir_ + "/out").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ + "/err").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "ZMESH_INTERFACE=", 16) != 0) env_strings.emplace_back(*e);
    env_strings.emplace_back("ZMESH_INTERFACE=lo");
    std::vector<char*> env;
    for (auto& s : env_strings) env.push_back(s.data());
    env.push_back(nullptr);

    std::vector<std::string> argv_strings{path};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    // Children start with default signal handling and an empty mask, whatever the test
    // runner set.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    const int rc = posix_spawn(&pid_, path.c_str(), &actions, &attr, argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("cannot start " + path + ": " + std::strerror(rc));
}

process::~process() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        ::kill(pid_, SIGCONT);   // a stopped child must run to die
        wait(std::chrono::seconds(10));
    }
    // Whether or not the test looked at this child's output: a report there is a failure.
    if (const auto report = sanitizer_report(); !report.empty())
        ADD_FAILURE() << name_ << " (pid " << pid_ << ") wrote a sanitizer report:\n" << report;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string process::sanitizer_report() const {
    if (auto report = report_in(err()); !report.empty()) return report;
    // ASAN_OPTIONS=log_path=P writes P.PID, or P.NAME.PID with log_exe_name=1.
    const auto log_path = sanitizer_option("ASAN_OPTIONS", "log_path");
    if (log_path.empty() || log_path == "stderr" || log_path == "stdout") return {};
    const auto pid = std::to_string(pid_);
    for (const auto& file : {log_path + "." + name_ + "." + pid, log_path + "." + pid})
        if (auto report = report_in(read_file(file)); !report.empty()) return report;
    return {};
}

void process::signal(int sig) const { ::kill(pid_, sig); }

bool process::running() {
    if (status_) return false;
    int st = 0;
    const pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return false;
    }
    return r == 0;
}

std::optional<int> process::wait(std::chrono::milliseconds timeout) {
    wait_until([this] { return !running(); }, timeout, std::chrono::milliseconds(5));
    return status_;
}

std::string process::out() const { return read_file(dir_ + "/out"); }
std::string process::err() const { return read_file(dir_ + "/err"); }

std::vector<std::string> process::out_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out());
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

std::size_t process::count_lines(const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& l : out_lines())
        if (l.rfind(prefix, 0) == 0) ++n;
    return n;
}

bool process::wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout) const {
    return wait_until([&] { return count_lines(prefix) > 0; }, timeout);
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

}  // namespace zmesh::test
