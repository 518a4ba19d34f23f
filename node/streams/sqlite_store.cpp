// SPDX-License-Identifier: MPL-2.0
// sqlite_store: the log opened (pragmas, schema, statements, each stream's committed state),
// and its streams, batches, reads, positions and node values (see sqlite_store.hpp).
#include "sqlite_store.hpp"

#include <utility>

namespace zmesh::detail::streams {

using namespace sql;

namespace {

constexpr std::size_t max_stream_name = 255;

}  // namespace

sqlite_store::sqlite_store(const std::string& path, durability mode) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK)
        throw store_error("cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    // One node per data directory (its flock) is the only user of the log: holding SQLite's
    // file lock for good spares the lock and unlock of every transaction (and WAL's shared
    // memory index), which every read of a delivery paid.
    exec("PRAGMA locking_mode=EXCLUSIVE");
    exec("PRAGMA journal_mode=WAL");
    // WAL with NORMAL: a commit is in the OS's hands once it returns, so it survives the
    // process; FULL also waits for the device, so it survives the OS and the power.
    exec(mode == durability::fsync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec("CREATE TABLE IF NOT EXISTS streams(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, "
         "prefix TEXT NOT NULL, max_messages INTEGER NOT NULL, max_bytes INTEGER NOT NULL, "
         "max_age_ms INTEGER NOT NULL, last_seq INTEGER NOT NULL)");
    exec("CREATE TABLE IF NOT EXISTS records(stream INTEGER NOT NULL, seq INTEGER NOT NULL, "
         "time_us INTEGER NOT NULL, key TEXT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY(stream, seq)) WITHOUT ROWID");
    exec("CREATE TABLE IF NOT EXISTS positions(stream INTEGER NOT NULL, consumer TEXT NOT NULL, "
         "acked INTEGER NOT NULL, PRIMARY KEY(stream, consumer)) WITHOUT ROWID");
    exec("CREATE TABLE IF NOT EXISTS node_values(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
    for (std::size_t q = 0; q < query_count; ++q) queries_[q] = prepare(query_sql[q]);

    // The committed state of every stream, counted once here and kept up to date after.
    auto* all = prepare("SELECT s.id, s.name, s.prefix, s.max_messages, s.max_bytes, s.max_age_ms, "
                        "MAX(s.last_seq, IFNULL(MAX(r.seq), 0)), "
                        "MIN(r.seq), COUNT(r.seq), TOTAL(LENGTH(r.key) + LENGTH(r.payload)) "
                        "FROM streams s LEFT JOIN records r ON r.stream = s.id GROUP BY s.id");
    for (auto q = run(all); q.step();) {
        stream s;
        s.id = q.integer(0);
        auto& c = s.committed;
        c.config = {q.text(1), q.text(2),
                    {static_cast<std::uint64_t>(q.integer(3)), static_cast<std::uint64_t>(q.integer(4)),
                     std::chrono::milliseconds(q.integer(5))}};
        c.last_seq = static_cast<std::uint64_t>(q.integer(6));
        c.first_seq = static_cast<std::uint64_t>(q.integer(7));
        c.messages = static_cast<std::uint64_t>(q.integer(8));
        c.bytes = static_cast<std::uint64_t>(q.integer(9));
        streams_.emplace(c.config.name, std::move(s));
    }
}

sqlite_store::~sqlite_store() {
    // What was appended and not committed was never promised as stored.
    if (in_batch_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    statements_.clear();   // before the connection: it cannot close with statements open
}

void sqlite_store::exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error ? error : sqlite3_errmsg(db_.get());
        sqlite3_free(error);
        throw store_error("sqlite: " + message);
    }
}

sqlite3_stmt* sqlite_store::prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
        throw store_error(std::string("sqlite: ") + sqlite3_errmsg(db_.get()));
    statements_.emplace_back(s);
    return s;
}

sqlite_store::stream& sqlite_store::find(std::string_view name) {
    const auto it = streams_.find(name);
    if (it == streams_.end()) throw std::invalid_argument("no stream '" + std::string(name) + "'");
    return it->second;
}

const sqlite_store::stream* sqlite_store::lookup(std::string_view name) const {
    const auto it = streams_.find(name);
    return it == streams_.end() ? nullptr : &it->second;
}

void sqlite_store::begin_batch() {
    if (in_batch_) return;
    exec("BEGIN");
    in_batch_ = true;
}

void sqlite_store::declare(const stream_config& config) {
    if (config.name.empty() || config.name.size() > max_stream_name)
        throw std::invalid_argument("a stream name is 1.." + std::to_string(max_stream_name) + " bytes");
    commit();
    auto q = run(upsert_stream);
    q.bind(config.name).bind(config.prefix).bind(static_cast<std::int64_t>(config.limits.max_messages));
    q.bind(static_cast<std::int64_t>(config.limits.max_bytes)).bind(static_cast<std::int64_t>(config.limits.max_age.count()));
    if (!q.step()) throw store_error("sqlite: no id for stream " + config.name);
    auto& s = streams_[config.name];
    s.id = q.integer(0);
    s.committed.config = config;
    while (q.step()) {
    }
}

bool sqlite_store::remove(std::string_view name) {
    const auto it = streams_.find(name);
    if (it == streams_.end()) return false;
    commit();
    const std::string id = std::to_string(it->second.id);
    exec("BEGIN");
    try {
        exec(("DELETE FROM records WHERE stream = " + id).c_str());
        exec(("DELETE FROM positions WHERE stream = " + id).c_str());
        exec(("DELETE FROM streams WHERE id = " + id).c_str());
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    streams_.erase(it);
    return true;
}

std::optional<stream_state> sqlite_store::state(std::string_view name) const {
    const auto* s = lookup(name);
    return s ? std::optional(s->committed) : std::nullopt;
}

std::vector<stream_state> sqlite_store::all() const {
    std::vector<stream_state> out;
    for (const auto& [name, s] : streams_) out.push_back(s.committed);
    return out;
}

std::uint64_t sqlite_store::append(std::string_view name, std::uint64_t time_us, std::string_view key,
                                   std::span<const std::uint8_t> payload) {
    auto& s = find(name);
    begin_batch();
    const auto seq = (s.batch_last_seq ? s.batch_last_seq : s.committed.last_seq) + 1;
    run(insert_record)
        .bind(s.id)
        .bind(static_cast<std::int64_t>(seq))
        .bind(static_cast<std::int64_t>(time_us))
        .bind(key)
        .bind(payload)
        .step();
    s.batch_last_seq = seq;
    ++s.batch_messages;
    s.batch_bytes += key.size() + payload.size();
    ++batch_records_;
    return seq;
}

std::size_t sqlite_store::commit() {
    if (!in_batch_) return 0;
    try {
        exec("COMMIT");
    } catch (...) {
        // Nothing of the batch is stored: its sequences are given again.
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        in_batch_ = false;
        batch_records_ = 0;
        for (auto& [name, s] : streams_) s.batch_last_seq = s.batch_messages = s.batch_bytes = 0;
        throw;
    }
    in_batch_ = false;
    for (auto& [name, s] : streams_) {
        if (!s.batch_last_seq) continue;
        auto& c = s.committed;
        if (c.first_seq == 0) c.first_seq = c.last_seq + 1;
        c.last_seq = s.batch_last_seq;
        c.messages += s.batch_messages;
        c.bytes += s.batch_bytes;
        s.batch_last_seq = s.batch_messages = s.batch_bytes = 0;
    }
    return std::exchange(batch_records_, 0);
}

std::vector<record> sqlite_store::read(std::string_view name, std::uint64_t from, std::size_t max,
                                       std::size_t max_bytes) const {
    std::vector<record> out;
    const auto* s = lookup(name);
    if (!s || max == 0) return out;
    std::size_t bytes = 0;
    auto q = run(select_records);
    q.bind(s->id).bind(static_cast<std::int64_t>(from)).bind(static_cast<std::int64_t>(s->committed.last_seq));
    q.bind(static_cast<std::int64_t>(max));
    while (q.step()) {
        record r{static_cast<std::uint64_t>(q.integer(0)), static_cast<std::uint64_t>(q.integer(1)), q.text(2), q.blob(3)};
        bytes += r.key.size() + r.payload.size();
        if (!out.empty() && bytes > max_bytes) break;
        out.push_back(std::move(r));
    }
    return out;
}

std::uint64_t sqlite_store::seq_at(std::string_view name, std::uint64_t time_us) const {
    const auto* s = lookup(name);
    if (!s) return 1;
    auto q = run(select_first_at);
    q.bind(s->id).bind(static_cast<std::int64_t>(time_us)).bind(static_cast<std::int64_t>(s->committed.last_seq));
    const auto first = q.step() ? q.integer(0) : 0;
    return first > 0 ? static_cast<std::uint64_t>(first) : s->committed.last_seq + 1;
}

void sqlite_store::set_position(std::string_view name, std::string_view consumer, std::uint64_t acked) {
    run(upsert_position).bind(find(name).id).bind(consumer).bind(static_cast<std::int64_t>(acked)).step();
}

std::optional<std::uint64_t> sqlite_store::position(std::string_view name, std::string_view consumer) const {
    const auto* s = lookup(name);
    if (!s) return std::nullopt;
    auto q = run(select_position);
    q.bind(s->id).bind(consumer);
    if (!q.step()) return std::nullopt;
    return static_cast<std::uint64_t>(q.integer(0));
}

std::vector<std::pair<std::string, std::uint64_t>> sqlite_store::positions(std::string_view name) const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    const auto* s = lookup(name);
    if (!s) return out;
    auto q = run(select_positions);
    for (q.bind(s->id); q.step();) out.emplace_back(q.text(0), static_cast<std::uint64_t>(q.integer(1)));
    return out;
}

void sqlite_store::set_value(std::string_view name, std::span<const std::uint8_t> value) {
    run(upsert_value).bind(name).bind(value).step();
}

std::optional<std::vector<std::uint8_t>> sqlite_store::value(std::string_view name) const {
    auto q = run(select_value);
    q.bind(name);
    if (!q.step()) return std::nullopt;
    return q.blob(0);
}

std::unique_ptr<log_store> open_sqlite_store(const std::string& path, durability mode) {
    return std::make_unique<sqlite_store>(path, mode);
}

}  // namespace zmesh::detail::streams
