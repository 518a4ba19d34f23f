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

#include <zmesh/node_id.hpp>
#include <zmesh/payload.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

namespace zmesh {

class event : public payload {
public:
    event() = default;
    event(std::string topic, node_id sender, std::string sender_name, std::uint64_t seq,
          std::uint64_t sent_us, std::span<const std::uint8_t> payload,
          std::shared_ptr<const void> storage)
        : zmesh::payload(payload, std::move(storage)),
          topic_(std::move(topic)),
          sender_(sender),
          sender_name_(std::move(sender_name)),
          seq_(seq),
          sent_us_(sent_us) {}

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
    // The payload: exactly one msgpack object. Decode it with as<T>(), try_as<T>(), object().
    std::span<const std::uint8_t> payload() const noexcept { return bytes(); }

private:
    std::string topic_;
    node_id sender_;
    std::string sender_name_;
    std::uint64_t seq_ = 0;
    std::uint64_t sent_us_ = 0;
};

}  // namespace zmesh
