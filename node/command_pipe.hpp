// SPDX-License-Identifier: MPL-2.0
// command_pipe: what a node's command pipe carries, typed by its first byte. A command is a
// 00 byte and a pointer (the command is owned by whoever reads it: it moves between threads
// without a copy); anything else is an event's wire frame, which begins with its topic, and a
// topic is never empty and never holds a 00 (protocol::check_topic). The reactor writes the
// event's header into that frame and sends the very buffer on.
#pragma once

#include "command.hpp"
#include "pipe.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <variant>

namespace zmesh::detail {

// What begins a command on the pipe; an event frame's first byte is its topic's.
inline constexpr std::uint8_t command_mark = 0;

// A message read from the command pipe.
using pipe_message = std::variant<std::unique_ptr<command>, zmq::message_t>;

// Sends `c` through `pipe`. Returns: false (and `c` is destroyed) when the pipe would block
// (with dontwait) or is closed.
inline bool send_command(zmq::socket_t& pipe, std::unique_ptr<command> c,
                         zmq::send_flags flags = zmq::send_flags::none) {
    return send_owned(pipe, std::move(c), flags, command_mark);
}

// Sends the event frame `frame` (laid out by node::send_event: it begins with a checked
// topic) through `pipe`, never blocking. Returns: false when the pipe is full or closed.
inline bool send_event_frame(zmq::socket_t& pipe, zmq::message_t& frame) {
    try {
        return pipe.send(frame, zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
        return false;
    }
}

// Returns: the next message waiting on `pipe`, or nothing when none is.
inline std::optional<pipe_message> receive_from_pipe(zmq::socket_t& pipe) {
    zmq::message_t msg;
    while (pipe.recv(msg, zmq::recv_flags::dontwait)) {
        if (msg.size() == 0) continue;   // not a message of ours: a bug
        if (*msg.data<std::uint8_t>() != command_mark) return pipe_message(std::move(msg));
        if (auto c = owned_from<command>(msg, 1)) return pipe_message(std::move(c));
    }
    return std::nullopt;
}

}  // namespace zmesh::detail
