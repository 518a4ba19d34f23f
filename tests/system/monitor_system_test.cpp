// SPDX-License-Identifier: MPL-2.0
// monitor: --watch --json prints one JSON document per second with per-peer rates and stops
// cleanly on SIGTERM; the live table, when stdout is not a terminal, prints plain frames
// (no escape codes) with rates and recent topics.
#include "system_fixture.hpp"

#include <csignal>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

class monitor_system : public system_fixture {
protected:
    process& spawn_monitor(std::vector<std::string> extra) {
        std::vector<std::string> args = {"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_)};
        args.insert(args.end(), extra.begin(), extra.end());
        procs_.push_back(std::make_unique<process>(tool("zmesh-monitor"), args));
        return *procs_.back();
    }
};

TEST_F(monitor_system, watch_json_prints_a_document_per_second_with_rates_until_sigterm) {
    spawn_node("pub", {"--publish", "t.x", "--rate", "50"});
    spawn_node("sub", {"--subscribe", "t."});
    auto& m = spawn_monitor({"--watch", "--json", "--wait", "20"});
    // Rates need two reports of a peer: wait for a line where the publisher's is known.
    nlohmann::json last;
    EXPECT_TRUE(wait_until([&] {
        for (const auto& line : m.out_lines()) {
            last = nlohmann::json::parse(line, nullptr, false);
            if (last.is_discarded()) return false;
            for (const auto& p : last["peers"])
                if (p.value("name", "") == "pub" && p["rates"]["events_out_per_s"].is_number() &&
                    p["rates"]["events_out_per_s"].get<double>() > 10)
                    return true;
        }
        return false;
    }, 15s)) << m.out();
    EXPECT_TRUE(wait_until([&] { return m.out_lines().size() >= 2; }, 10s)) << "one a second: " << m.out();
    m.signal(SIGTERM);
    EXPECT_EQ(m.wait(5s), std::optional<int>(0)) << m.err();
    // The first line already knew both members and their rates: no empty or null record.
    const auto first = nlohmann::json::parse(m.out_lines().front());
    ASSERT_EQ(first["peers"].size(), 2u) << first.dump();
    for (const auto& p : first["peers"]) EXPECT_TRUE(p["rates"]["events_out_per_s"].is_number()) << first.dump();
}

TEST_F(monitor_system, ctrl_c_ends_it_with_130) {
    spawn_node("a");
    auto& m = spawn_monitor({"--watch", "--json"});
    ASSERT_TRUE(m.wait_for_line("{", 20s)) << m.err();
    m.signal(SIGINT);
    EXPECT_EQ(m.wait(5s), std::optional<int>(130)) << m.err();
}

TEST_F(monitor_system, once_prints_a_table_without_live_view_hints) {
    auto& a = spawn_node("a", {"--serve", "echo"});
    ASSERT_TRUE(a.wait_for_line("started ", 10s));
    auto& m = spawn_monitor({"--once", "--wait", "10"});
    ASSERT_EQ(m.wait(30s), std::optional<int>(0)) << m.err();
    EXPECT_NE(m.out().find("echo"), std::string::npos) << m.out();
    EXPECT_EQ(m.out().find("q quits"), std::string::npos) << m.out();
    EXPECT_EQ(m.out().find("RECENT TOPICS"), std::string::npos) << "--once listens to no event:\n" << m.out();
}

TEST_F(monitor_system, live_table_into_a_pipe_prints_plain_frames_with_rates_and_topics) {
    spawn_node("pub", {"--publish", "orders.created", "--rate", "20", "--serve", "echo"});
    auto& m = spawn_monitor({});
    EXPECT_TRUE(wait_until([&] { return m.out().find("orders.created") != std::string::npos; }, 15s)) << m.out();
    EXPECT_TRUE(wait_until([&] { return m.count_lines("pub ") > 0; }, 5s)) << m.out();
    m.signal(SIGTERM);
    EXPECT_EQ(m.wait(5s), std::optional<int>(0)) << m.err();
    EXPECT_EQ(m.out().find('\x1b'), std::string::npos) << "escape codes in a pipe";
    EXPECT_NE(m.out().find("EV_OUT/s"), std::string::npos);
    EXPECT_NE(m.out().find("echo"), std::string::npos) << "served methods missing";
}

}  // namespace
}  // namespace zmesh::test
