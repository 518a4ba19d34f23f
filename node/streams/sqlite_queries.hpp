// SPDX-License-Identifier: MPL-2.0
// sqlite_queries: the SQL of sqlite_store, one statement per operation on the log.
#pragma once

#include <cstddef>

namespace zmesh::detail::streams::sql {

// The statements the store runs, prepared once when it opens.
enum query : std::size_t {
    insert_record, select_records, update_last_seq, upsert_position, select_position, upsert_value,
    select_value, count_through, delete_through, select_sizes, select_oldest_before, upsert_stream, select_first_at,
    select_record_size, delete_record, select_first_seq, select_positions,
    query_count
};
inline constexpr const char* query_sql[query_count] = {
    "INSERT INTO records(stream, seq, time_us, key, payload) VALUES(?, ?, ?, ?, ?)",
    "SELECT seq, time_us, key, payload FROM records WHERE stream = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?",
    "UPDATE streams SET last_seq = ? WHERE id = ?",
    "INSERT INTO positions(stream, consumer, acked) VALUES(?, ?, ?) "
    "ON CONFLICT(stream, consumer) DO UPDATE SET acked = excluded.acked",
    "SELECT acked FROM positions WHERE stream = ? AND consumer = ?",
    "INSERT INTO node_values(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    "SELECT value FROM node_values WHERE name = ?",
    "SELECT COUNT(*), TOTAL(LENGTH(key) + LENGTH(payload)) FROM records WHERE stream = ? AND seq <= ?",
    "DELETE FROM records WHERE stream = ? AND seq <= ?",
    "SELECT seq, LENGTH(key) + LENGTH(payload) FROM records WHERE stream = ? ORDER BY seq",
    "SELECT MAX(seq) FROM records WHERE stream = ? AND time_us < ?",
    "INSERT INTO streams(name, prefix, max_messages, max_bytes, max_age_ms, last_seq) VALUES(?, ?, ?, ?, ?, 0) "
    "ON CONFLICT(name) DO UPDATE SET prefix = excluded.prefix, max_messages = excluded.max_messages, "
    "max_bytes = excluded.max_bytes, max_age_ms = excluded.max_age_ms RETURNING id",
    "SELECT MIN(seq) FROM records WHERE stream = ? AND time_us >= ? AND seq <= ?",
    "SELECT LENGTH(key) + LENGTH(payload) FROM records WHERE stream = ? AND seq = ?",
    "DELETE FROM records WHERE stream = ? AND seq = ?",
    "SELECT MIN(seq) FROM records WHERE stream = ?",
    "SELECT consumer, acked FROM positions WHERE stream = ? ORDER BY consumer",
};

}  // namespace zmesh::detail::streams::sql
