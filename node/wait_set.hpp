// SPDX-License-Identifier: MPL-2.0
// wait_set: the descriptors the reactor sleeps on, kept by the kernel between waits (epoll,
// level-triggered: what poll(2) would report). poll(2) looks at every descriptor each time,
// and the reactor waits very often on a dozen of its own sockets plus one call link per peer
// it calls: with epoll a wait costs what is ready, not what is watched.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <span>

namespace zmesh::detail {

class wait_set {
public:
    wait_set();   // throws std::system_error when the kernel refuses
    wait_set(const wait_set&) = delete;
    wait_set& operator=(const wait_set&) = delete;
    ~wait_set();

    // Watches `fd` for input; `tag` comes back with each of its events. Throws
    // std::system_error (a closed or duplicate descriptor is a bug).
    void add(int fd, std::uint64_t tag);
    // Stops watching `fd`, which must still be open. Never throws.
    void remove(int fd) noexcept;
    // Waits up to `timeout_ms` (0: not at all) for input. Returns: the tags of the ready
    // descriptors, at most out.size() (the rest come with the next wait), in `out`; empty
    // when the time passed or a signal came. Throws std::system_error on any other failure.
    std::span<const std::uint64_t> wait(std::span<std::uint64_t> out, int timeout_ms);

private:
    int fd_;
};

}  // namespace zmesh::detail
