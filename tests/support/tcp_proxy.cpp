// SPDX-License-Identifier: MPL-2.0
#include "tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace zmesh::test {

namespace {

sockaddr_in address(const std::string& host, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    return a;
}

}  // namespace

tcp_proxy::tcp_proxy(const std::string& listen_host, const std::string& target_host, std::uint16_t port)
    : target_host_(target_host), port_(port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const auto a = address(listen_host, port);
    if (::bind(listener_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 16) != 0) {
        ::close(listener_);
        throw std::runtime_error("tcp_proxy: cannot listen on " + listen_host + ":" + std::to_string(port));
    }
    thread_ = std::thread([this] { run(); });
}

tcp_proxy::~tcp_proxy() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
}

std::string tcp_proxy::seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

void tcp_proxy::run() {
    // ends[2k] and ends[2k+1] are the two sides of relay k; -1 once it closed.
    std::vector<int> ends;
    while (!stop_) {
        std::vector<pollfd> polled{{listener_, POLLIN, 0}};
        for (const int fd : ends) polled.push_back({fd, POLLIN, 0});
        if (::poll(polled.data(), polled.size(), 20) <= 0) continue;
        if (polled[0].revents & POLLIN) {
            const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const auto a = address(target_host_, port_);
            if (client >= 0 && server >= 0 &&
                ::connect(server, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
                ends.push_back(client);
                ends.push_back(server);
            } else {
                if (client >= 0) ::close(client);
                if (server >= 0) ::close(server);
            }
        }
        for (std::size_t i = 1; i < polled.size(); ++i) {
            if (!(polled[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const std::size_t from = i - 1, to = from ^ 1;
            char buf[65536];
            const auto n = ::read(ends[from], buf, sizeof buf);
            if (n <= 0 || ::write(ends[to], buf, static_cast<std::size_t>(n)) != n) {
                ::close(ends[from]);   // one side gone: the relay ends (poll skips -1)
                ::close(ends[to]);
                ends[from] = ends[to] = -1;
                continue;
            }
            std::lock_guard lock(mutex_);
            seen_.append(buf, static_cast<std::size_t>(n));
        }
    }
    for (const int fd : ends)
        if (fd >= 0) ::close(fd);
}

}  // namespace zmesh::test
