// SPDX-License-Identifier: MPL-2.0
// messages: what a stream's consumers and its publisher say to each other — a member joins a
// consumer (CONSUME), the publisher answers and hands it records (DELIVER), the member
// settles each attempt (ACK, NAK, IN_PROGRESS, TERM) or leaves (END). As values here; their
// wire form is protocol/stream.hpp (PROTOCOL.md §14), and wire.hpp converts.
#pragma once

#include "consumer_group.hpp"
#include "log_store.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace zmesh::detail::streams {

// Where a new consumer starts; an existing one resumes after its position whatever it asks.
enum class start_at : std::uint8_t {
    new_records,   // what is stored from now on
    first,         // the oldest record kept
    sequence,      // the record `start_value` (or the oldest kept, when trimmed)
    time,          // the first record stored at or after `start_value` µs since the epoch
};

struct consume_request {
    std::string stream, consumer;
    start_at start = start_at::new_records;
    std::uint64_t start_value = 0;
    group_config config;
};

// too_many: the publisher holds as many consumer names as it takes (publisher_config).
enum class consume_status : std::uint8_t { ok, no_stream, too_many };

struct consume_answer {
    std::string stream, consumer;
    consume_status status = consume_status::ok;
    std::uint64_t first_seq = 0, last_seq = 0;   // the stream's, as stored now
    std::uint64_t position = 0;                  // the consumer's: all up to it is done
    // The consumer hands a key's records one at a time (its first CONSUME asked so): first
    // attempts need not come in rising seq order.
    bool ordered_by_key = false;
};

enum class settle : std::uint8_t { ack, nak, in_progress, term };

struct settle_message {
    std::string stream, consumer;
    std::uint64_t seq = 0;
    std::uint32_t attempt = 0;
    settle kind = settle::ack;
    std::chrono::milliseconds delay{0};   // nak: before the next attempt
    std::string error;                    // nak: why, kept with a dead letter
};

// The member stops consuming: what it holds unsettled goes back to the others.
struct consume_end {
    std::string stream, consumer;
};

struct delivery_message {
    std::string stream, consumer;
    record rec;
    std::uint32_t attempt = 0;   // 1: the first; more: a redelivery
};

}  // namespace zmesh::detail::streams
