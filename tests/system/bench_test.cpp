// SPDX-License-Identifier: MPL-2.0
// bench: each zmesh-bench subcommand runs at a tiny size and prints one JSON object with both
// sides of every figure. Smoke only: no timing is asserted here (the figures are for people;
// see README "Performance").
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace zmesh::test {
namespace {

// Runs zmesh-bench with `args` and --json --runs `runs`. Returns: its JSON report.
nlohmann::json run_bench(std::vector<std::string> args, int runs = 1) {
    args.insert(args.end(), {"--json", "--runs", std::to_string(runs), "--timeout", "60"});
    process p(tool("zmesh-bench"), args);
    const auto status = p.wait(std::chrono::seconds(120));
    EXPECT_EQ(status, std::optional<int>(0)) << p.err();
    const auto lines = p.out_lines();
    if (lines.size() != 1) {
        ADD_FAILURE() << "want one JSON line, got:\n" << p.out() << p.err();
        return {};
    }
    try {
        return nlohmann::json::parse(lines.front());
    } catch (const nlohmann::json::exception& e) {
        ADD_FAILURE() << e.what() << ": " << lines.front();
        return {};
    }
}

// Checks that metric `key` has a positive zmesh figure, one per run, and — unless
// `zmesh_only` — a positive baseline, each run's ratio, and their median as the ratio.
void expect_metric(const nlohmann::json& report, const std::string& key, bool zmesh_only = false,
                   std::size_t runs = 1) {
    ASSERT_TRUE(report.contains("metrics") && report["metrics"].contains(key)) << report.dump();
    const auto& m = report["metrics"][key];
    EXPECT_GT(m.value("zmesh", 0.0), 0.0) << key << ": " << m.dump();
    EXPECT_EQ(m["zmesh_runs"].size(), runs) << key;
    if (zmesh_only) {
        EXPECT_FALSE(m.contains("raw")) << key;
        return;
    }
    EXPECT_GT(m.value("raw", 0.0), 0.0) << key << ": " << m.dump();
    ASSERT_EQ(m["raw_runs"].size(), runs) << key;
    ASSERT_EQ(m["ratio_runs"].size(), runs) << key;
    std::vector<double> ratios;
    for (std::size_t i = 0; i < runs; ++i) {
        ratios.push_back(m["ratio_runs"][i].get<double>());
        EXPECT_NEAR(ratios.back(), m["zmesh_runs"][i].get<double>() / m["raw_runs"][i].get<double>(), 1e-9);
    }
    std::sort(ratios.begin(), ratios.end());
    EXPECT_GT(m.value("ratio", 0.0), 0.0) << key;
    EXPECT_NEAR(m["ratio"].get<double>(), ratios[runs / 2], 1e-9) << key << ": " << m.dump();
}

TEST(bench, pubsub_fan_out_reports_rates_for_both_sides_and_nothing_lost) {
    const auto r = run_bench({"pubsub", "--count", "2000", "--subscribers", "2"});
    EXPECT_EQ(r.value("bench", ""), "pubsub");
    EXPECT_EQ(r["params"].value("subscribers", 0), 2);
    expect_metric(r, "events_per_s");
    expect_metric(r, "deliveries_per_s");
    EXPECT_EQ(r["zmesh"].value("lost", 1), 0);
    EXPECT_EQ(r["zmesh"].value("publisher_suspected", 1), 0);
    EXPECT_EQ(r["raw"].value("lost", 1), 0);
}

TEST(bench, pubsub_secure_reports_encrypted_rates_and_their_cost) {
    const auto r = run_bench({"pubsub", "--count", "2000", "--subscribers", "2", "--secure"});
    EXPECT_EQ(r["params"].value("secure", false), true);
    expect_metric(r, "events_per_s");
    expect_metric(r, "secure_events_per_s");
    for (const char* side : {"zmesh", "raw"}) {
        EXPECT_GT(r[side].value("encrypted_vs_plain", 0.0), 0.0) << side << ": " << r.dump();
        EXPECT_EQ(r[side].value("lost", 1), 0) << side;
    }
    // Without --secure there is no encrypted figure.
    const auto plain = run_bench({"pubsub", "--count", "500"});
    EXPECT_FALSE(plain["metrics"].contains("secure_events_per_s")) << plain.dump();
}

TEST(bench, rpc_reports_latency_percentiles_and_pipelined_rate) {
    const auto r = run_bench({"rpc", "--count", "300", "--pipelined", "3000", "--window", "10"});
    EXPECT_EQ(r.value("bench", ""), "rpc");
    for (const char* key : {"p50_us", "p90_us", "p99_us", "p999_us", "calls_per_s"}) expect_metric(r, key);
    const auto& m = r["metrics"];
    EXPECT_LE(m["p50_us"]["zmesh"].get<double>(), m["p99_us"]["zmesh"].get<double>());
}

TEST(bench, discovery_reports_convergence_kill_and_memory) {
    const auto started = std::chrono::steady_clock::now();
    const auto r = run_bench({"discovery", "--nodes", "4", "--settle", "1"});
    EXPECT_EQ(r.value("bench", ""), "discovery");
    // Memory is read after the nodes idled --settle seconds, on each side (a lower bound:
    // sleeping never takes less).
    EXPECT_EQ(r["params"].value("settle_s", -1), 1);
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
    expect_metric(r, "converge_ms");
    expect_metric(r, "cpu_ms");
    expect_metric(r, "kill_noticed_ms", true);
    expect_metric(r, "rss_kib");
    expect_metric(r, "private_kib");
    const auto& m = r["metrics"];
    // Private memory is part of the resident set, never more.
    EXPECT_GT(m["private_kib"]["zmesh"].get<double>(), 0);
    EXPECT_LE(m["private_kib"]["zmesh"].get<double>(), m["rss_kib"]["zmesh"].get<double>());
    // A process that started, joined and is still running has used some CPU.
    EXPECT_GT(m["cpu_ms"]["zmesh"].get<double>(), 0);
}

TEST(bench, discovery_of_subscribing_nodes_reports_the_same_figures) {
    const auto r = run_bench({"discovery", "--nodes", "3", "--subscribe"});
    EXPECT_EQ(r["params"].value("subscribe", false), true);
    expect_metric(r, "converge_ms");
    expect_metric(r, "kill_noticed_ms", true);
    expect_metric(r, "rss_kib");
}

TEST(bench, ratio_is_the_median_of_each_runs_own_ratio) {
    const auto r = run_bench({"codec", "--count", "20000"}, 3);
    expect_metric(r, "encode_ns", false, 3);
    expect_metric(r, "decode_ns", false, 3);
}

TEST(bench, durable_reports_stored_records_per_second_against_raw_sqlite) {
    const auto r = run_bench({"durable", "--count", "2000", "--batch", "10"});
    EXPECT_EQ(r.value("bench", ""), "durable");
    EXPECT_EQ(r.value("baseline", ""), "raw SQLite");
    // Both durabilities, the fsync one with a tenth of the records.
    expect_metric(r, "records_per_s_batch_10");
    expect_metric(r, "fsync_records_per_s_batch_10");
    EXPECT_EQ(r["params"]["fsync"].value("count", 0), 200) << r.dump();
    // One durability when asked for one.
    const auto os = run_bench({"durable", "--count", "500", "--batch", "1", "--durability", "os"});
    expect_metric(os, "records_per_s_batch_1");
    EXPECT_FALSE(os["metrics"].contains("fsync_records_per_s_batch_1")) << os.dump();
}

// Whether zmesh-bench can run the JetStream baseline here: built with libnats
// (ZMESH_BENCH_JETSTREAM, from CMake) and nats-server on PATH.
bool jetstream_expected() {
#ifdef ZMESH_BENCH_JETSTREAM
    return std::system("command -v nats-server >/dev/null 2>&1") == 0;
#else
    return false;
#endif
}

TEST(bench, durable_group_reports_acked_deliveries_and_jetstream_side_by_side_when_it_can) {
    // Three runs: each side goes first in one of them.
    const auto r = run_bench({"durable", "--count", "600", "--batch", "10", "--durability", "os"}, 3);
    EXPECT_EQ(r["params"]["group"].value("count", 0), 600) << r.dump();
    EXPECT_EQ(r["params"]["group"].value("sync_count", 0), 12) << r.dump();
    // Both members of the group acked some; the benchmark itself fails when a record is not
    // acked exactly once.
    const auto by_member = r["zmesh"]["group"]["acked_by_member"];
    ASSERT_EQ(by_member.size(), 2u) << r.dump();
    EXPECT_EQ(by_member[0].get<int>() + by_member[1].get<int>(), 600);
    const bool jetstream = jetstream_expected();
    for (const char* key : {"stored_publish_sync_per_s", "stored_publish_window_per_s", "group_acked_per_s"}) {
        expect_metric(r, key, !jetstream, 3);
        EXPECT_EQ(r["metrics"][key].value("baseline", ""), "JetStream") << key;
    }
    expect_metric(r, "records_per_s_batch_10", false, 3);   // raw SQLite's, as before
    if (jetstream) {
        EXPECT_FALSE(r["jetstream"].contains("skipped")) << r.dump();
        const auto js_members = r["jetstream"]["acked_by_member"];
        ASSERT_EQ(js_members.size(), 2u) << r.dump();
        EXPECT_EQ(js_members[0].get<int>() + js_members[1].get<int>(), 600);
    } else {
        EXPECT_FALSE(r["jetstream"].value("skipped", "").empty()) << r.dump();
    }
    // fsync only: no end-to-end shapes.
    const auto fsync = run_bench({"durable", "--count", "200", "--batch", "10", "--durability", "fsync"});
    EXPECT_FALSE(fsync["metrics"].contains("group_acked_per_s")) << fsync.dump();
}

TEST(bench, codec_reports_ns_per_operation) {
    const auto r = run_bench({"codec", "--count", "20000"});
    EXPECT_EQ(r.value("baseline", ""), "msgpack-cxx");
    expect_metric(r, "encode_ns");
    expect_metric(r, "decode_ns");
}

}  // namespace
}  // namespace zmesh::test
