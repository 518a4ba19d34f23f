// SPDX-License-Identifier: MPL-2.0
// streams: durable delivery without a broker. A node with a data directory
// (options::data_dir) declares streams; every event it publishes on a topic a stream takes
// is also appended to that stream's log on its disk, and kept until the stream's limits trim
// it. Members consume a stream by a consumer name: each message goes to one member of that
// name at a time, is redelivered when it is not acknowledged in time, naked, or its member
// dies, and after max_deliveries attempts goes to the stream "<name>.dlq" with its last error.
//
//   n.declare_stream({"orders", "orders."});              // the publisher
//   n.publish_stored("orders.placed", order).get();      // returns once it is on disk
//
//   m.consume("orders", "inventory", [](const zmesh::stream_message& msg) {   // a member
//       reserve(msg.as<order>());
//       msg.ack();                 // or nak(delay, why), in_progress(), term()
//   });
#pragma once

#include <zmesh/node_id.hpp>
#include <zmesh/options.hpp>
#include <zmesh/payload.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace zmesh {

// How much of a stream is kept; 0 is no limit. The oldest messages go first.
struct stream_limits {
    std::uint64_t max_messages = 0;
    std::uint64_t max_bytes = 0;             // of payloads
    std::chrono::milliseconds max_age{0};
};

struct stream_config {
    stream_config() = default;
    stream_config(std::string name, std::string prefix, stream_limits limits = {})
        : name(std::move(name)), prefix(std::move(prefix)), limits(limits) {}

    std::string name;     // 1..255 bytes
    std::string prefix;   // the topics it takes: those that begin with it ("" takes none)
    stream_limits limits;
};

// A stream as its publisher's log holds it now.
struct stream_info {
    stream_config config;
    std::uint64_t first_seq = 0;   // the oldest message kept (0: none)
    std::uint64_t last_seq = 0;    // the newest ever stored
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
};

// Where a consumer starts the first time; afterwards it resumes after its position (every
// message up to it acknowledged), which the publisher keeps.
enum class stream_start : std::uint8_t {
    new_messages,   // what is stored from now on
    first,          // the oldest message kept
    sequence,       // consume_options::start_sequence (or the oldest kept, when trimmed)
    time,           // the first message stored at or after consume_options::start_time
};

struct consume_options {
    stream_start start = stream_start::new_messages;
    std::uint64_t start_sequence = 0;
    std::chrono::system_clock::time_point start_time{};
    std::chrono::milliseconds ack_wait{30'000};   // unacknowledged this long: redelivered
    std::uint32_t max_deliveries = 5;             // attempts, the first included
    // The wait before attempt n+1 after attempt n timed out (the last entry repeats); a nak
    // names its own.
    std::vector<std::chrono::milliseconds> backoff{std::chrono::milliseconds(0)};
    std::uint32_t max_in_flight = 256;            // handed to this member and not settled
    // Messages of one key (node::publish_stored with a key) go to one member at a time, in
    // the order stored: one is not handed out while an earlier one of its key is unsettled
    // or waiting to be redelivered; other keys flow past it. A message that goes to the dead
    // letters or is termed frees its key. Messages without a key are not ordered. The
    // publisher runs a consumer name as the CONSUME that created it asked (this field, like
    // the others above, for as long as the publisher runs): a member that asks otherwise is
    // answered what the name does, and logs a warning.
    bool ordered_by_key = false;
};

// A store failure, or a stored publish no stream took.
class stream_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One message of a stream, as a consumer's handler receives it. It may be kept and settled
// later, from any thread; settling it twice, or after its attempt was redelivered elsewhere,
// does nothing (counted in stats().stream_settles_stale).
class stream_message : public payload {
public:
    enum class outcome : std::uint8_t { ack, nak, in_progress, term };
    using settler = std::function<void(outcome, std::chrono::milliseconds, const std::string&)>;

    stream_message(std::string stream, std::string consumer, node_id publisher, std::uint64_t seq,
                   std::uint32_t attempt, std::uint64_t stored_us, std::string key,
                   std::span<const std::uint8_t> bytes, std::shared_ptr<const void> storage, settler settle)
        : zmesh::payload(bytes, std::move(storage)),
          stream_(std::move(stream)),
          consumer_(std::move(consumer)),
          publisher_(publisher),
          seq_(seq),
          attempt_(attempt),
          stored_us_(stored_us),
          key_(std::move(key)),
          settle_(std::move(settle)) {}

    const std::string& stream() const noexcept { return stream_; }
    const std::string& consumer() const noexcept { return consumer_; }
    // The node whose log holds it: (publisher, stream, seq) names a message.
    const node_id& publisher() const noexcept { return publisher_; }
    std::uint64_t seq() const noexcept { return seq_; }
    // 1: the first delivery; more: a redelivery (this member or another may have seen it).
    std::uint32_t attempt() const noexcept { return attempt_; }
    bool redelivered() const noexcept { return attempt_ > 1; }
    std::chrono::system_clock::time_point stored_at() const noexcept {
        return std::chrono::system_clock::time_point(std::chrono::microseconds(stored_us_));
    }
    const std::string& key() const noexcept { return key_; }

    // Processed: never delivered again.
    void ack() const { settle(outcome::ack, {}, {}); }
    // Not processed: another attempt after `delay` (to any member); `error` is kept with it
    // should it end as a dead letter.
    void nak(std::chrono::milliseconds delay = {}, const std::string& error = {}) const {
        settle(outcome::nak, delay, error);
    }
    // Still working on it: its ack wait starts again.
    void in_progress() const { settle(outcome::in_progress, {}, {}); }
    // Never to be delivered again, and not a dead letter.
    void term() const { settle(outcome::term, {}, {}); }

private:
    void settle(outcome o, std::chrono::milliseconds delay, const std::string& error) const {
        if (settle_) settle_(o, delay, error);
    }

    std::string stream_, consumer_;
    node_id publisher_;
    std::uint64_t seq_ = 0;
    std::uint32_t attempt_ = 0;
    std::uint64_t stored_us_ = 0;
    std::string key_;
    settler settle_;
};

using stream_handler = std::function<void(const stream_message&)>;
using consumer_id = std::uint64_t;

}  // namespace zmesh
