// SPDX-License-Identifier: MPL-2.0
// log_store: the durable log a node keeps for the streams it publishes — each stream's
// records under a 64-bit sequence that never goes back (it survives restarts and trimming),
// the retention limits that trim it, its consumers' positions, and a few node-wide values
// (the node's identity). An interface of our own, so that the engine behind it (SQLite today)
// can change without the node noticing.
//
// Appends are batched: they go into an open batch, and commit() makes the whole batch durable
// at once, as the store's durability promises. Nothing appended is visible to read() or
// counted as stored before its commit.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zmesh::detail::streams {

// What a commit survives.
enum class durability {
    os,      // a crash of the process (kill -9): the OS has the data
    fsync,   // a crash of the OS or a power loss: the device has it
};

// How much of a stream is kept; 0 is no limit. The oldest records go first.
struct retention {
    std::uint64_t max_messages = 0;
    std::uint64_t max_bytes = 0;   // of payloads and keys
    std::chrono::milliseconds max_age{0};
    bool operator==(const retention&) const = default;
};

struct stream_config {
    std::string name;     // 1..255 bytes
    std::string prefix;   // the topics it takes: those that begin with it
    retention limits;
};

struct stream_state {
    stream_config config;
    std::uint64_t first_seq = 0;   // the oldest record kept (0: none kept)
    std::uint64_t last_seq = 0;    // the newest ever stored, kept or trimmed since
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
};

struct record {
    std::uint64_t seq = 0;
    std::uint64_t time_us = 0;   // when it was stored, µs since the Unix epoch
    std::string key;             // "" when none (per-key ordering, dedup)
    std::vector<std::uint8_t> payload;
};

// An I/O or engine failure, with the engine's message: the store is not usable after it
// unless the caller knows better (a full disk may clear).
class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class log_store {
public:
    virtual ~log_store() = default;

    // Creates the stream, or changes its prefix and limits (its records and sequence stay).
    virtual void declare(const stream_config& config) = 0;
    // Removes the stream, its records and its consumers. Returns: whether it existed.
    virtual bool remove(std::string_view stream) = 0;
    virtual std::optional<stream_state> state(std::string_view stream) const = 0;
    virtual std::vector<stream_state> all() const = 0;

    // Adds a record to the open batch. Returns: its sequence. Throws std::invalid_argument
    // for a stream that was not declared.
    virtual std::uint64_t append(std::string_view stream, std::uint64_t time_us, std::string_view key,
                                 std::span<const std::uint8_t> payload) = 0;
    // Makes the open batch durable (see durability). Returns: how many records it held.
    virtual std::size_t commit() = 0;
    // Returns: whether records wait in the open batch.
    virtual bool pending() const = 0;

    // Returns: the kept records from `from` on, in order: at most `max` of them, and no more
    // bytes than `max_bytes` past the first.
    virtual std::vector<record> read(std::string_view stream, std::uint64_t from, std::size_t max,
                                     std::size_t max_bytes) const = 0;
    // Returns: the first kept record stored at or after `time_us`, or last_seq + 1 when none.
    virtual std::uint64_t seq_at(std::string_view stream, std::uint64_t time_us) const = 0;
    // Applies the stream's limits as of `now_us`. Returns: how many records went.
    virtual std::uint64_t trim(std::string_view stream, std::uint64_t now_us) = 0;

    // A consumer's position: the sequence up to which it has acknowledged everything.
    virtual void set_position(std::string_view stream, std::string_view consumer, std::uint64_t acked) = 0;
    virtual std::optional<std::uint64_t> position(std::string_view stream, std::string_view consumer) const = 0;
    // Returns: every consumer the log keeps a position for in `stream`, by name, in order.
    virtual std::vector<std::pair<std::string, std::uint64_t>> positions(std::string_view stream) const = 0;

    // Removes one committed record (a dead letter requeued or dropped), committing the open
    // batch first; the stream's last_seq stays. Returns: whether the record was kept.
    virtual bool erase(std::string_view stream, std::uint64_t seq) = 0;

    // Node-wide values kept with the log (the node's identity).
    virtual void set_value(std::string_view name, std::span<const std::uint8_t> value) = 0;
    virtual std::optional<std::vector<std::uint8_t>> value(std::string_view name) const = 0;
};

// Opens (creating when absent) the SQLite store at `path`. Throws store_error when it cannot.
std::unique_ptr<log_store> open_sqlite_store(const std::string& path, durability mode);

}  // namespace zmesh::detail::streams
