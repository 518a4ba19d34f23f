// SPDX-License-Identifier: MPL-2.0
// jetstream: the JetStream baseline of `zmesh-bench durable` — a nats-server started for each
// run (JetStream on, a free port, a new store directory), the shapes run against it by
// zmesh-bench-jetstream (built beside this program when libnats-dev was installed), and the
// server stopped by its PID and its directory removed however the run ends.
#include "stream_shapes.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace zmesh::bench {
namespace {

// Returns: the path of `program` in a directory of $PATH, or "".
std::string find_on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    for (std::string_view dirs = path ? path : ""; !dirs.empty();) {
        const auto end = std::min(dirs.find(':'), dirs.size());
        const std::string file = std::string(dirs.substr(0, end)) + "/" + program;
        if (end > 0 && ::access(file.c_str(), X_OK) == 0) return file;
        dirs.remove_prefix(std::min(end + 1, dirs.size()));
    }
    return {};
}

// Returns: zmesh-bench-jetstream beside this program, or "".
std::string client_program() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    const auto helper = self.parent_path() / "zmesh-bench-jetstream";
    return ::access(helper.c_str(), X_OK) == 0 ? helper.string() : std::string();
}

bool accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::string tail_of(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    const auto all = text.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

// One nats-server with JetStream. Members in this order: the directory outlives the process.
class nats_server {
public:
    nats_server(const std::string& program, clock::time_point deadline)
        : dir_("zmesh-bench-jetstream-"), port_(free_loopback_port(SOCK_STREAM, "nats-server")),
          server_({"-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd", dir_.path() + "/store", "-l",
                   log_path()},
                  program) {
        // It listens once JetStream is up; until then a connection is refused.
        while (!accepts(port_)) {
            if (!server_.running())
                throw std::runtime_error("nats-server exited at start:\n" + tail_of(log_path()));
            if (clock::now() > deadline)
                throw std::runtime_error("nats-server did not accept connections in time:\n" + tail_of(log_path()));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    ~nats_server() {
        // TERM lets it close its store; KILL (by child::wait) if it has not exited in 5 s.
        server_.kill(SIGTERM);
        (void)server_.wait(clock::now() + std::chrono::seconds(5));
    }
    nats_server(const nats_server&) = delete;
    nats_server& operator=(const nats_server&) = delete;

    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    std::string log_path() const { return dir_.path() + "/server.log"; }

private:
    temp_dir dir_;
    std::uint16_t port_;
    child server_;
};

}  // namespace

std::optional<std::string> jetstream_unavailable() {
#ifndef ZMESH_BENCH_JETSTREAM
    return "zmesh-bench was built without libnats (libnats-dev)";
#else
    if (find_on_path("nats-server").empty()) return "nats-server is not on PATH";
    if (client_program().empty()) return "zmesh-bench-jetstream is not beside zmesh-bench";
    return std::nullopt;
#endif
}

shape_figures run_jetstream_shapes(const settings& s, const shape_work& w) {
    const nats_server server(find_on_path("nats-server"), s.deadline());
    child client({server.url(), std::to_string(w.count), std::to_string(w.sync_count), std::to_string(w.size),
                  std::to_string(w.window), std::to_string(w.batch), std::to_string(s.timeout.count())},
                 client_program());
    client.close_stdin();
    const auto deadline = s.deadline() + s.timeout;   // its three shapes may each take --timeout
    const auto r = expect_result(client, deadline, "JetStream client");
    if (client.wait(deadline) != 0) throw std::runtime_error("JetStream client failed");
    shape_figures f;
    f.publish_sync = r.at("publish_sync_per_s").get<double>();
    f.publish_async = r.at("publish_async_per_s").get<double>();
    f.group_acked = r.at("group_acked_per_s").get<double>();
    f.facts = {{"client", r.value("client", "")}, {"acked_by_member", r.value("acked_by_member", nlohmann::json())}};
    return f;
}

}  // namespace zmesh::bench
