// SPDX-License-Identifier: MPL-2.0
// sqlite_store, retention: what leaves a stream's log, trimmed by its limits or erased one
// record at a time, while the stream's last sequence stays (see sqlite_store.hpp).
#include "sqlite_store.hpp"

#include <algorithm>

namespace zmesh::detail::streams {

using namespace sql;

std::uint64_t sqlite_store::drop_through(stream& s, std::uint64_t last) {
    std::uint64_t messages = 0, bytes = 0;
    {
        auto count = run(count_through);
        count.bind(s.id).bind(static_cast<std::int64_t>(last));
        if (count.step()) {
            messages = static_cast<std::uint64_t>(count.integer(0));
            bytes = static_cast<std::uint64_t>(count.integer(1));
        }
    }
    if (messages == 0) return 0;
    auto& c = s.committed;
    // The newest record may be among those going: its sequence stays in the stream's row.
    run(update_last_seq).bind(static_cast<std::int64_t>(c.last_seq)).bind(s.id).step();
    run(delete_through).bind(s.id).bind(static_cast<std::int64_t>(last)).step();
    c.messages -= messages;
    c.bytes -= bytes;
    c.first_seq = c.messages ? std::max(c.first_seq, last + 1) : 0;
    return messages;
}

std::uint64_t sqlite_store::trim(std::string_view name, std::uint64_t now_us) {
    auto& s = find(name);
    commit();
    const auto& limits = s.committed.config.limits;
    std::uint64_t dropped = 0;
    exec("BEGIN");
    try {
        // Each cut is found first, its statement done, then the records up to it deleted.
        if (limits.max_age.count() > 0) {
            const auto age_us = static_cast<std::uint64_t>(limits.max_age.count()) * 1000;
            std::uint64_t last = 0;
            if (now_us > age_us) {
                auto q = run(select_oldest_before);
                q.bind(s.id).bind(static_cast<std::int64_t>(now_us - age_us));
                if (q.step()) last = static_cast<std::uint64_t>(q.integer(0));
            }
            if (last) dropped += drop_through(s, last);
        }
        if (limits.max_messages > 0 && s.committed.messages > limits.max_messages) {
            // Kept records may have holes (a work queue's acked ones): count them one by one.
            const auto excess = s.committed.messages - limits.max_messages;
            std::uint64_t last = 0;
            {
                auto q = run(select_sizes);
                q.bind(s.id);
                for (std::uint64_t n = 0; n < excess && q.step(); ++n) last = static_cast<std::uint64_t>(q.integer(0));
            }
            dropped += drop_through(s, last);
        }
        if (limits.max_bytes > 0 && s.committed.bytes > limits.max_bytes) {
            std::uint64_t freed = 0, last = 0;
            {
                auto q = run(select_sizes);
                q.bind(s.id);
                while (s.committed.bytes - freed > limits.max_bytes && q.step()) {
                    last = static_cast<std::uint64_t>(q.integer(0));
                    freed += static_cast<std::uint64_t>(q.integer(1));
                }
            }
            dropped += drop_through(s, last);
        }
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    return dropped;
}

bool sqlite_store::erase(std::string_view name, std::uint64_t seq) {
    const auto it = streams_.find(name);
    if (it == streams_.end()) return false;
    auto* s = &it->second;
    commit();   // the open batch first: the committed counts below are then the whole story
    std::uint64_t bytes = 0;
    {
        auto q = run(select_record_size);
        q.bind(s->id).bind(static_cast<std::int64_t>(seq));
        if (!q.step()) return false;
        bytes = static_cast<std::uint64_t>(q.integer(0));
    }
    auto& c = s->committed;
    exec("BEGIN");
    try {
        // The newest record may be the one going: its sequence stays in the stream's row.
        run(update_last_seq).bind(static_cast<std::int64_t>(c.last_seq)).bind(s->id).step();
        run(delete_record).bind(s->id).bind(static_cast<std::int64_t>(seq)).step();
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    --c.messages;
    c.bytes -= bytes;
    if (c.messages == 0) {
        c.first_seq = 0;
    } else if (seq == c.first_seq) {
        auto q = run(select_first_seq);
        q.bind(s->id);
        c.first_seq = q.step() ? static_cast<std::uint64_t>(q.integer(0)) : 0;
    }
    return true;
}

}  // namespace zmesh::detail::streams
