// SPDX-License-Identifier: MPL-2.0
// sqlite_store: log_store on SQLite in WAL mode. One connection, used by one thread at a time
// (the reactor's). The committed state of each stream is kept in memory, so that state()
// and read() never see a batch that is not yet durable.
//
// A stream's last sequence is the larger of its newest record and the last_seq its row keeps.
// The row is written only when records are deleted (trim, erase), the one time the newest
// record can go: so a commit writes its records and nothing else.
//
// The class is private to the log: the node opens it with open_sqlite_store (log_store.hpp).
// sqlite_store.cpp opens it and keeps its records, positions and values; sqlite_retention.cpp
// takes records out.
#pragma once

#include "log_store.hpp"
#include "sqlite_queries.hpp"
#include "sqlite_statement.hpp"

#include <sqlite3.h>

#include <array>
#include <map>
#include <memory>

namespace zmesh::detail::streams {

class sqlite_store final : public log_store {
public:
    sqlite_store(const std::string& path, durability mode);
    ~sqlite_store() override;

    void declare(const stream_config& config) override;
    bool remove(std::string_view stream) override;
    std::optional<stream_state> state(std::string_view stream) const override;
    std::vector<stream_state> all() const override;
    std::uint64_t append(std::string_view stream, std::uint64_t time_us, std::string_view key,
                         std::span<const std::uint8_t> payload) override;
    std::size_t commit() override;
    bool pending() const override { return batch_records_ > 0; }
    std::vector<record> read(std::string_view stream, std::uint64_t from, std::size_t max,
                             std::size_t max_bytes) const override;
    std::uint64_t seq_at(std::string_view stream, std::uint64_t time_us) const override;
    std::uint64_t trim(std::string_view stream, std::uint64_t now_us) override;
    void set_position(std::string_view stream, std::string_view consumer, std::uint64_t acked) override;
    std::optional<std::uint64_t> position(std::string_view stream, std::string_view consumer) const override;
    std::vector<std::pair<std::string, std::uint64_t>> positions(std::string_view stream) const override;
    bool erase(std::string_view stream, std::uint64_t seq) override;
    void set_value(std::string_view name, std::span<const std::uint8_t> value) override;
    std::optional<std::vector<std::uint8_t>> value(std::string_view name) const override;

private:
    struct db_close {
        void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
    };
    struct statement_finalize {
        void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
    };
    using statement = std::unique_ptr<sqlite3_stmt, statement_finalize>;
    using use = statement_use;

    struct stream {
        std::int64_t id = 0;
        stream_state committed;
        // The open batch's part: what commit() adds to `committed`.
        std::uint64_t batch_last_seq = 0, batch_messages = 0, batch_bytes = 0;
    };
    void exec(const char* sql);
    sqlite3_stmt* prepare(const char* sql);
    use run(sqlite3_stmt* s) const { return use(db_.get(), s); }
    use run(sql::query q) const { return use(db_.get(), queries_[q]); }
    stream& find(std::string_view name);
    const stream* lookup(std::string_view name) const;
    void begin_batch();
    // Removes the records of `s` up to `last` (included). Returns: how many went.
    std::uint64_t drop_through(stream& s, std::uint64_t last);

    std::unique_ptr<sqlite3, db_close> db_;
    std::vector<statement> statements_;
    std::array<sqlite3_stmt*, sql::query_count> queries_{};
    std::map<std::string, stream, std::less<>> streams_;
    bool in_batch_ = false;
    std::size_t batch_records_ = 0;
};

}  // namespace zmesh::detail::streams
