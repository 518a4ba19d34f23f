// SPDX-License-Identifier: MPL-2.0
// command_pipe: what a node's command pipe carries, typed. Each message is two parts, its kind
// (one byte) and then either a command (owned, by pointer: it moves between threads without a
// copy) or an event's wire frame (the reactor writes the header into it and sends that very
// buffer on). The reader is told which by the kind, never by a size.
#pragma once

#include "command.hpp"
#include "pipe.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

namespace zmesh::detail {

enum class pipe_kind : std::uint8_t { command = 'C', event = 'E' };

// A message read from the command pipe.
using pipe_message = std::variant<std::unique_ptr<command>, zmq::message_t>;

// Sends `c` through `pipe`. Returns: false (and `c` is destroyed) when the pipe would block
// (with dontwait) or is closed.
inline bool send_command(zmq::socket_t& pipe, std::unique_ptr<command> c,
                         zmq::send_flags flags = zmq::send_flags::none) {
    const auto kind = pipe_kind::command;
    try {
        // The parts of one message go together: once the first is taken, so is the second.
        if (!pipe.send(zmq::const_buffer(&kind, 1), flags | zmq::send_flags::sndmore)) return false;
    } catch (const zmq::error_t&) {
        return false;
    }
    return send_owned(pipe, std::move(c), flags);
}

// Sends the event frame `frame` (laid out by node::send_event) through `pipe`, never
// blocking. Returns: false when the pipe is full or closed.
inline bool send_event_frame(zmq::socket_t& pipe, zmq::message_t& frame) {
    const auto kind = pipe_kind::event;
    try {
        return pipe.send(zmq::const_buffer(&kind, 1), zmq::send_flags::dontwait | zmq::send_flags::sndmore) &&
               pipe.send(frame, zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
        return false;
    }
}

// Returns: the next message waiting on `pipe`, or nothing when none is.
inline std::optional<pipe_message> receive_from_pipe(zmq::socket_t& pipe) {
    zmq::message_t kind, body;
    while (pipe.recv(kind, zmq::recv_flags::dontwait)) {
        if (!kind.more() || !pipe.recv(body)) continue;   // not a message of ours: a bug
        if (kind.size() == 1 && *kind.data<std::uint8_t>() == static_cast<std::uint8_t>(pipe_kind::event))
            return pipe_message(std::move(body));
        if (auto c = owned_from<command>(body)) return pipe_message(std::move(c));
    }
    return std::nullopt;
}

}  // namespace zmesh::detail
