// SPDX-License-Identifier: MPL-2.0
// ports: ask the kernel for a free port by binding port 0.
#include "ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>

namespace zmesh::test {

namespace {
std::uint16_t bound_port(int type) {
    const int fd = socket(AF_INET, type, 0);
    if (fd < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        close(fd);
        throw std::runtime_error("bind port 0");
    }
    close(fd);
    return ntohs(addr.sin_port);
}

bool tcp_free(std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}
}  // namespace

std::uint16_t free_port() {
    for (int attempt = 0; attempt < 50; ++attempt) {
        const auto port = bound_port(SOCK_DGRAM);
        if (tcp_free(port)) return port;
    }
    throw std::runtime_error("no free port");
}

std::string unique_mesh() {
    static std::atomic<int> n{0};
    return "t-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

}  // namespace zmesh::test
