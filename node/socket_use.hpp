// SPDX-License-Identifier: MPL-2.0
// socket_use: how a component tells the reactor it used one of the sockets the loop waits
// on. A socket's descriptor signals only when commands reach it, and any operation on the
// socket may take that signal while messages stay queued; so a socket used since its last
// check is checked again before the loop sleeps (see reactor::dirty_).
#pragma once

namespace zmesh::detail {

class socket_use {
public:
    socket_use(unsigned& dirty, unsigned bit) noexcept : dirty_(&dirty), bit_(bit) {}
    void operator()() const noexcept { *dirty_ |= bit_; }

private:
    unsigned* dirty_;
    unsigned bit_;
};

}  // namespace zmesh::detail
