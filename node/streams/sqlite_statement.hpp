// SPDX-License-Identifier: MPL-2.0
// statement_use: one use of a prepared SQLite statement — bound, stepped, read, and reset when
// it goes out of scope, so that a failure midway never leaves it half used.
#pragma once

#include "log_store.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zmesh::detail::streams {

class statement_use {
public:
    statement_use(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
    ~statement_use() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    statement_use(const statement_use&) = delete;
    statement_use& operator=(const statement_use&) = delete;

    statement_use& bind(std::int64_t v) { return check(sqlite3_bind_int64(s_, ++at_, v)); }
    statement_use& bind(std::string_view v) {
        // An empty text, not NULL, for a view without data: the columns are NOT NULL.
        return check(sqlite3_bind_text(s_, ++at_, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC));
    }
    statement_use& bind(std::span<const std::uint8_t> v) {
        // A zero-length blob, not NULL: the column is NOT NULL.
        return check(sqlite3_bind_blob(s_, ++at_, v.empty() ? "" : static_cast<const void*>(v.data()),
                                       static_cast<int>(v.size()), SQLITE_STATIC));
    }
    // Returns: whether a row came (SQLITE_ROW); false when done.
    bool step() {
        const int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc != SQLITE_DONE) throw store_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
        return false;
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(s_, column); }
    std::string text(int column) const {
        const auto* p = sqlite3_column_text(s_, column);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, column)))
                 : std::string();
    }
    std::vector<std::uint8_t> blob(int column) const {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, column));
        return p ? std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(s_, column)) : std::vector<std::uint8_t>();
    }

private:
    statement_use& check(int rc) {
        if (rc != SQLITE_OK) throw store_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
        return *this;
    }
    sqlite3* db_;
    sqlite3_stmt* s_;
    int at_ = 0;
};

}  // namespace zmesh::detail::streams
