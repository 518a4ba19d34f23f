// SPDX-License-Identifier: MPL-2.0
// durable: stored records per second of a durable stream, in this process. zmesh's
// stream_publisher over its SQLite log, driven as the node's reactor drives it (commits
// every --batch records or when commit_within falls due), against the plain SQLite C API
// storing the same records in the same batches, with the same journal and sync settings.
// Then end to end (stream_shapes.hpp): stored publishes through a node and a group of two
// members acking them, against the same shapes on JetStream when it can run here.
#include "node/streams/stream_publisher.hpp"
#include "stream_shapes.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <memory>
#include <span>
#include <stdexcept>
#include <thread>

namespace zmesh::bench {
namespace {

namespace streams = zmesh::detail::streams;
using streams::durability;

const std::string topic = "bench.t";

// One side's work: `count` records of `payload`, committed `batch` at a time.
struct workload {
    std::uint64_t count = 0;
    std::size_t batch = 1;
    durability mode = durability::os;
    std::span<const std::uint8_t> payload;
};

std::uint64_t wall_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

double per_second(std::uint64_t count, std::int64_t elapsed_ns) {
    return static_cast<double>(count) * 1e9 / static_cast<double>(std::max<std::int64_t>(elapsed_ns, 1));
}

// Counts the publishes the publisher says are stored; a failed one ends the run.
class counting_sink final : public streams::stream_sink {
public:
    std::uint64_t stored_count = 0;
    void deliver(const streams::member_id&, const streams::delivery_message&) override {}
    void answer(const streams::member_id&, const streams::consume_answer&) override {}
    void stored(std::uint64_t ticket, bool ok) override {
        if (!ok) throw std::runtime_error("zmesh: the commit of ticket " + std::to_string(ticket) + " failed");
        ++stored_count;
    }
};

// Returns: records/s from the first append to the last ticket stored.
double run_zmesh(const workload& w, clock::time_point deadline) {
    const temp_dir dir("zmesh-bench-durable-");
    counting_sink sink;
    streams::stream_publisher pub(streams::open_sqlite_store(dir.path() + "/log.db", w.mode), sink,
                                  streams::publisher_config{.commit_every = w.batch});
    pub.declare({"bench", "bench.", {}});
    // The reactor reads the clocks for each publish and runs the timers that fell due.
    const auto due = [&](clock::time_point now) {
        const auto next = pub.next_deadline();
        if (next && now >= *next) pub.on_timers(now, wall_us());
    };
    const auto t0 = now_ns();
    for (std::uint64_t i = 1; i <= w.count; ++i) {
        const auto now = clock::now();
        if (pub.append(topic, "", w.payload, wall_us(), i, now) != 1)
            throw std::runtime_error("zmesh: the stream did not take " + topic);
        due(now);
    }
    // The last, partial batch is stored when commit_within falls due, as in a node.
    while (sink.stored_count < w.count) {
        const auto next = pub.next_deadline();
        if (next) std::this_thread::sleep_until(*next);
        if (clock::now() > deadline) throw std::runtime_error("zmesh: records not stored in time");
        due(clock::now());
    }
    return per_second(w.count, now_ns() - t0);
}

struct db_close {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct statement_finalize {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    throw std::runtime_error("raw SQLite: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void exec(sqlite3* db, const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, sql);
}

// Returns: records/s from the first insert to the last commit.
double run_raw(const workload& w) {
    const temp_dir dir("zmesh-bench-sqlite-");
    const auto path = dir.path() + "/raw.db";
    sqlite3* opened = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    const std::unique_ptr<sqlite3, db_close> db(opened);
    if (rc != SQLITE_OK) fail(opened, "cannot open " + path);
    // What zmesh's store sets for each durability (sqlite_store.cpp).
    exec(db.get(), "PRAGMA locking_mode=EXCLUSIVE");   // as the node's log: one user
    exec(db.get(), "PRAGMA journal_mode=WAL");
    exec(db.get(), w.mode == durability::fsync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec(db.get(), "CREATE TABLE records(seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, key TEXT NOT NULL, "
                   "payload BLOB NOT NULL)");
    sqlite3_stmt* prepared = nullptr;
    if (sqlite3_prepare_v3(db.get(), "INSERT INTO records(seq, time_us, key, payload) VALUES(?, ?, ?, ?)", -1,
                           SQLITE_PREPARE_PERSISTENT, &prepared, nullptr) != SQLITE_OK)
        fail(db.get(), "prepare");
    const std::unique_ptr<sqlite3_stmt, statement_finalize> insert(prepared);
    const auto* payload = w.payload.empty() ? "" : static_cast<const void*>(w.payload.data());
    const auto size = static_cast<int>(w.payload.size());

    std::size_t in_batch = 0;
    const auto t0 = now_ns();
    for (std::uint64_t i = 1; i <= w.count; ++i) {
        if (in_batch == 0) exec(db.get(), "BEGIN");
        auto* s = insert.get();
        if (sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(i)) != SQLITE_OK ||
            sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(wall_us())) != SQLITE_OK ||
            sqlite3_bind_text(s, 3, "", 0, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_blob(s, 4, payload, size, SQLITE_STATIC) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
            fail(db.get(), "insert");
        sqlite3_reset(s);
        if (++in_batch == w.batch || i == w.count) {
            exec(db.get(), "COMMIT");
            in_batch = 0;
        }
    }
    return per_second(w.count, now_ns() - t0);
}

// One row of the table: a durability and batch size, both sides measured in every run.
struct row {
    workload work;
    metric* figures;
};

}  // namespace

int run_durable(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    const auto size = s.get<std::size_t>("size");
    const auto chosen = s.vm.count("durability") ? s.get<std::string>("durability") : std::string();
    const std::vector<std::size_t> batches =
        s.vm.count("batch") ? std::vector<std::size_t>{s.get<std::size_t>("batch")} : std::vector<std::size_t>{1, 10, 100};
    // fsync waits for the device at every commit: a tenth of the records, at the largest batch.
    const auto fsync_count = std::max<std::uint64_t>(count / 10, 1);
    const auto fsync_batch = batches.back();

    nlohmann::json params{{"count", count}, {"size", size}, {"batches", batches}};
    if (chosen != "os") params["fsync"] = {{"count", fsync_count}, {"batch", fsync_batch}};
    // End to end, in durability::os only: JetStream's file store does not sync each write either.
    const bool shapes = chosen != "fsync";
    const shape_work shape{.count = count, .sync_count = std::max<std::uint64_t>(count / 50, 1), .size = size};
    if (shapes)
        params["group"] = {{"count", shape.count}, {"sync_count", shape.sync_count}, {"window", shape.window},
                           {"in_flight_per_member", shape.batch}, {"jetstream_fetch", shape.batch}};
    report r("durable", params);
    r.baseline("raw SQLite");
    r.extra("raw") = {{"sqlite", sqlite3_libversion()}, {"journal", "WAL"}};

    const std::vector<std::uint8_t> payload(size, 0x5a);
    std::vector<row> rows;
    if (chosen != "fsync")
        for (const auto b : batches)
            rows.push_back({{count, b, durability::os, payload},
                            &r.at("records_per_s_batch_" + std::to_string(b), "records/s, batch " + std::to_string(b))});
    if (chosen != "os")
        rows.push_back({{fsync_count, fsync_batch, durability::fsync, payload},
                        &r.at("fsync_records_per_s_batch_" + std::to_string(fsync_batch),
                              "fsync records/s, batch " + std::to_string(fsync_batch))});

    const auto jetstream_missing = shapes ? jetstream_unavailable() : std::nullopt;
    metric *sync = nullptr, *window = nullptr, *group = nullptr;
    if (shapes) {
        r.extra("zmesh")["group"] = {{"nodes", "publisher and 2 members in this process, TCP loopback"},
                                     {"handlers", s.get<std::string>("handler")}};
        if (jetstream_missing) {
            progress("JetStream baseline skipped: " + *jetstream_missing);
            r.extra("jetstream") = {{"skipped", *jetstream_missing}};
        } else {
            r.extra("jetstream") = {{"server", "nats-server -js, file store, a child process"},
                                    {"clients", "zmesh-bench-jetstream: publisher and 2 pull subscribers, own connections"}};
        }
        const std::string js = "JetStream";
        const auto n = std::to_string(shape.window);
        sync = &r.at("stored_publish_sync_per_s", "stored publishes/s, 1 out");
        window = &r.at("stored_publish_window_per_s", "stored publishes/s, " + n + " out");
        group = &r.at("group_acked_per_s", "acked deliveries/s, group 2");
        for (auto* m : {sync, window, group}) m->baseline = js;
    }
    for (int run = 1; run <= s.runs; ++run) {
        for (auto& [work, figures] : rows) {
            // Each side goes first in every other run: the one after inherits the other's
            // dirty pages still being written back.
            if (run % 2) {
                figures->zmesh.push_back(run_zmesh(work, s.deadline()));
                figures->raw.push_back(run_raw(work));
            } else {
                figures->raw.push_back(run_raw(work));
                figures->zmesh.push_back(run_zmesh(work, s.deadline()));
            }
        }
        if (shapes) {
            // Each side goes first in every other run, as above.
            const auto measure_zmesh = [&] {
                const auto z = run_zmesh_shapes(s, shape);
                sync->zmesh.push_back(z.publish_sync);
                window->zmesh.push_back(z.publish_async);
                group->zmesh.push_back(z.group_acked);
                r.extra("zmesh")["group"]["acked_by_member"] = z.facts["acked_by_member"];
            };
            const auto measure_jetstream = [&] {
                if (jetstream_missing) return;
                const auto j = run_jetstream_shapes(s, shape);
                sync->raw.push_back(j.publish_sync);
                window->raw.push_back(j.publish_async);
                group->raw.push_back(j.group_acked);
                r.extra("jetstream")["client_version"] = j.facts["client"];
                r.extra("jetstream")["acked_by_member"] = j.facts["acked_by_member"];
            };
            if (run % 2) {
                measure_zmesh();
                measure_jetstream();
            } else {
                measure_jetstream();
                measure_zmesh();
            }
        }
        progress("durable run " + std::to_string(run) + "/" + std::to_string(s.runs));
    }
    r.print(s.json);
    return 0;
}

}  // namespace zmesh::bench
