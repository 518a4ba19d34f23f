// SPDX-License-Identifier: MPL-2.0
// event: one published event as a subscriber's handler receives it.
//
//   n.subscribe("orders.", [](const zmesh::event& e) {
//       auto order = e.as<order_placed>();        // throws zmesh::decode_error on a mismatch
//       if (auto o = e.try_as<order_placed>()) ... // or: no exception, nullopt on a mismatch
//   });
//
// An event is cheap to copy (the payload is shared, never copied) and may be kept after the
// handler returns.
#pragma once

#include "protocol/node_id.hpp"

#include <msgpack.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

namespace zmesh {

using protocol::node_id;

// The payload is valid msgpack (the node checked) but not of the type asked for.
struct decode_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class event {
public:
    event() = default;
    event(std::string topic, node_id sender, std::string sender_name, std::uint64_t seq,
          std::uint64_t sent_us, std::span<const std::uint8_t> payload,
          std::shared_ptr<const void> storage)
        : topic_(std::move(topic)), sender_(sender), sender_name_(std::move(sender_name)),
          seq_(seq), sent_us_(sent_us), payload_(payload), storage_(std::move(storage)) {}

    const std::string& topic() const noexcept { return topic_; }
    const node_id& sender() const noexcept { return sender_; }
    const std::string& sender_name() const noexcept { return sender_name_; }
    // 1, 2, 3... per (sender, topic): a jump is a gap (counted in stats), never reordered.
    std::uint64_t seq() const noexcept { return seq_; }
    // When the sender published it, by the sender's clock.
    std::chrono::system_clock::time_point sent_at() const noexcept {
        return std::chrono::system_clock::time_point(std::chrono::microseconds(sent_us_));
    }
    std::uint64_t sent_us() const noexcept { return sent_us_; }
    // The payload: exactly one msgpack object.
    std::span<const std::uint8_t> payload() const noexcept { return payload_; }

    // Returns: the payload as a msgpack object; it lives as long as the handle.
    msgpack::object_handle object() const {
        try {
            return msgpack::unpack(reinterpret_cast<const char*>(payload_.data()), payload_.size());
        } catch (const std::exception& e) {
            throw decode_error(std::string("event payload: ") + e.what());
        }
    }

    // Returns: the payload converted to T. Throws decode_error when it is not a T.
    template <class T>
    T as() const {
        const auto handle = object();
        try {
            return handle.get().as<T>();
        } catch (const std::exception& e) {
            throw decode_error("event on '" + topic_ + "' is not the type asked for: " + e.what());
        }
    }

    // Returns: the payload converted to T, or nullopt when it is not a T. Never throws.
    template <class T>
    std::optional<T> try_as() const noexcept {
        try {
            return as<T>();
        } catch (...) {
            return std::nullopt;
        }
    }

private:
    std::string topic_;
    node_id sender_;
    std::string sender_name_;
    std::uint64_t seq_ = 0;
    std::uint64_t sent_us_ = 0;
    std::span<const std::uint8_t> payload_;
    std::shared_ptr<const void> storage_;   // keeps payload_ alive
};

}  // namespace zmesh
