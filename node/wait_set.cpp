// SPDX-License-Identifier: MPL-2.0
#include "wait_set.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

namespace zmesh::detail {

namespace {
[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }
}  // namespace

wait_set::wait_set() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (fd_ < 0) fail("epoll_create1");
}

wait_set::~wait_set() { ::close(fd_); }

void wait_set::add(int fd, std::uint64_t tag) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = tag;
    if (::epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &e) != 0) fail("epoll_ctl");
}

void wait_set::remove(int fd) noexcept { (void)::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }

std::span<const std::uint64_t> wait_set::wait(std::span<std::uint64_t> out, int timeout_ms) {
    std::array<epoll_event, 32> events;
    const int max = static_cast<int>(std::min(out.size(), events.size()));
    const int n = ::epoll_wait(fd_, events.data(), max, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return {};
        fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = events[static_cast<std::size_t>(i)].data.u64;
    return out.first(static_cast<std::size_t>(n));
}

}  // namespace zmesh::detail
