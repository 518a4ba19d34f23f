// SPDX-License-Identifier: MPL-2.0
// pipe: how other threads talk to the reactor (commands in) and how the reactor talks to
// the delivery thread (events out). Inproc sockets carrying one pointer per message: the
// object moves between threads without a copy and without a lock.
#pragma once

#include <zmq.hpp>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace zmesh::detail {

// Returns: the bytes of a message.
inline std::span<const std::uint8_t> bytes_of(const zmq::message_t& m) {
    return {static_cast<const std::uint8_t*>(m.data()), m.size()};
}

// A part of a received frame (an event's payload, a call's arguments or result), kept alive
// by a shared owner of the frame, for code that runs after the reactor has moved on.
struct shared_part {
    std::shared_ptr<zmq::message_t> frame;
    std::span<const std::uint8_t> bytes;
};
// Returns: `part` (a view into `frame`) and its new owner; `frame` is left empty. The offset
// is taken before the move: a small message keeps its bytes inside zmq::message_t itself.
inline shared_part share_part(zmq::message_t& frame, std::span<const std::uint8_t> part) {
    const auto offset = static_cast<std::size_t>(part.data() - frame.data<std::uint8_t>());
    auto owner = std::make_shared<zmq::message_t>(std::move(frame));
    const auto bytes = bytes_of(*owner).subspan(offset, part.size());
    return {std::move(owner), bytes};
}

// The process-wide context that every inproc pipe lives in. Never destroyed: threads
// outside the node may hold pipe sockets until they exit.
zmq::context_t& pipe_context();

// Names the calling thread (up to 15 bytes shown), so top, perf and gdb tell a node's
// threads apart.
void name_this_thread(const char* name);

// Returns: a fresh "inproc://zmesh-<what>-<n>" endpoint, unique in this process.
std::string unique_inproc(const char* what);

// Sends ownership of `object` through `socket`, as its pointer after the byte `mark` when
// one is given. Returns: false (and `object` is destroyed) when the socket would block or is
// closed.
template <class T>
bool send_owned(zmq::socket_t& socket, std::unique_ptr<T> object,
                zmq::send_flags flags = zmq::send_flags::none, std::optional<std::uint8_t> mark = std::nullopt) {
    T* raw = object.get();
    const std::size_t at = mark ? 1 : 0;
    zmq::message_t msg(at + sizeof raw);
    if (mark) *msg.data<std::uint8_t>() = *mark;
    std::memcpy(msg.data<std::uint8_t>() + at, &raw, sizeof raw);
    try {
        if (!socket.send(msg, flags)) return false;
    } catch (const zmq::error_t&) {
        return false;
    }
    object.release();
    return true;
}

// Returns: ownership of the object whose pointer `msg` carries (from send_owned, after
// `mark_size` bytes of mark), or null when `msg` is not one pointer.
template <class T>
std::unique_ptr<T> owned_from(const zmq::message_t& msg, std::size_t mark_size = 0) {
    if (msg.size() != mark_size + sizeof(T*)) return nullptr;
    T* raw = nullptr;
    std::memcpy(&raw, msg.data<std::uint8_t>() + mark_size, sizeof raw);
    return std::unique_ptr<T>(raw);
}

// Receives ownership of an object sent with send_owned. Returns: null on EAGAIN.
template <class T>
std::unique_ptr<T> receive_owned(zmq::socket_t& socket,
                                 zmq::recv_flags flags = zmq::recv_flags::dontwait) {
    zmq::message_t msg;
    if (!socket.recv(msg, flags)) return nullptr;
    return owned_from<T>(msg);
}

// The sending end of a node's command pipe, usable from any thread: each thread gets its own
// PUSH socket (cached per thread), so senders never share a socket and never lock.
class command_sender {
public:
    // `send_hwm`: messages each thread may queue before a dontwait send fails (0: no limit).
    command_sender(std::string endpoint, int send_hwm);
    ~command_sender();
    command_sender(const command_sender&) = delete;
    command_sender& operator=(const command_sender&) = delete;

    // Returns: the calling thread's socket for this pipe.
    zmq::socket_t& socket() const;

private:
    std::string endpoint_;
    int send_hwm_;
    std::uint64_t serial_;
    std::shared_ptr<std::atomic<bool>> alive_;
};

}  // namespace zmesh::detail
