// SPDX-License-Identifier: MPL-2.0
// The durable streams on the command line: zmesh-node --data-dir --stream publishing stored
// events (its count going on after a restart), zmesh consume printing and acking them, a
// consumer name resuming where it stopped, order by key (zmesh-node --keys, zmesh consume
// --ordered-by-key), and their exit statuses.
#include "streams_fixture.hpp"

#include <csignal>
#include <map>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

class consume_cli : public streams_fixture {};

TEST_F(consume_cli, a_stream_needs_a_data_directory) {
    auto& p = spawn_node("pub", {"--stream", "jobs=jobs."});
    EXPECT_EQ(p.wait(10s), std::optional<int>(2));
    EXPECT_NE(p.err().find("--stream needs --data-dir"), std::string::npos) << p.err();
    auto& q = spawn_node("pub", {"--data-dir", (dir_ / "q").string(), "--durability", "sometimes"});
    EXPECT_EQ(q.wait(10s), std::optional<int>(1));
    EXPECT_NE(q.err().find("--durability is os or fsync"), std::string::npos) << q.err();
    auto& c = spawn_consumer({"--from", "last"});
    EXPECT_EQ(c.wait(10s), std::optional<int>(1));
    EXPECT_NE(c.err().find("--from is first, new or a sequence"), std::string::npos) << c.err();
}

TEST_F(consume_cli, consume_prints_each_stored_message_once_and_a_name_resumes_where_it_stopped) {
    auto* pub = &spawn_publisher("200", "20");
    ASSERT_TRUE(pub->wait_for_line("started ", 10s)) << pub->err();
    auto& first = spawn_consumer({"--from", "first", "--count", "20", "--timeout", "30s"});
    ASSERT_EQ(first.wait(40s), std::optional<int>(0)) << first.err();
    const auto got = handed_by(first);
    ASSERT_EQ(got.size(), 20u) << first.out();
    for (std::uint64_t i = 0; i < 20; ++i) {
        EXPECT_EQ(got[i].seq, i + 1);
        EXPECT_EQ(got[i].attempt, 1u);
        EXPECT_EQ(got[i].publisher, "pub");
        EXPECT_EQ(got[i].payload, nlohmann::json({{"n", i + 1}, {"from", "pub"}}));
    }
    EXPECT_NE(first.err().find("acked 20, naked 0 message(s) of jobs as workers"), std::string::npos) << first.err();

    // Everything is acked: the same name gets nothing more; another name starts where told.
    auto& again = spawn_consumer({"--count", "1", "--timeout", "2s"});
    EXPECT_EQ(again.wait(20s), std::optional<int>(1));
    EXPECT_EQ(again.out(), "");
    auto& audit = spawn_consumer({"--from", "15", "--count", "3", "--json", "--timeout", "30s"}, "jobs", "audit");
    ASSERT_EQ(audit.wait(40s), std::optional<int>(0)) << audit.err();
    const auto lines = audit.out_lines();
    ASSERT_EQ(lines.size(), 3u);
    const auto j = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(j["stream"], "jobs");
    EXPECT_EQ(j["seq"], 15);
    EXPECT_EQ(j["attempt"], 1);
    EXPECT_EQ(j["publisher"]["name"], "pub");
    EXPECT_GT(j["stored_us"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(j["payload"]["n"], 15);

    pub->signal(SIGTERM);
    ASSERT_EQ(pub->wait(10s), std::optional<int>(0)) << pub->err();
    EXPECT_EQ(pub->count_lines("stored 20"), 1u) << pub->out();
    EXPECT_EQ(exit_stats(*pub)["stream_stored"], 20);

    // Restarted on its directory, it counts on from its last stored sequence.
    pub = &spawn_publisher("200", "25");
    auto& rest = spawn_consumer({"--count", "5", "--timeout", "30s"});
    ASSERT_EQ(rest.wait(40s), std::optional<int>(0)) << rest.err();
    const auto more = handed_by(rest);
    ASSERT_EQ(more.size(), 5u);
    for (std::uint64_t i = 0; i < 5; ++i) EXPECT_EQ(more[i].payload["n"], more[i].seq);
    EXPECT_EQ(more.front().seq, 21u);
    pub->signal(SIGTERM);
    ASSERT_EQ(pub->wait(10s), std::optional<int>(0));
    EXPECT_EQ(pub->count_lines("stored 5"), 1u) << pub->out();
}

TEST_F(consume_cli, ordered_by_key_a_naked_message_comes_back_before_the_next_of_its_key) {
    spawn_node("pub", {"--data-dir", (dir_ / "pub").string(), "--stream", "jobs=jobs.", "--publish", "jobs.run",
                       "--rate", "500", "--count", "60", "--keys", "3", "--beacon-interval", "250ms"});
    // Multiples of 7 are naked at each of their 2 attempts, then dead letters: 52 acked.
    auto& c = spawn_consumer({"--from", "first", "--ordered-by-key", "--json", "--nak-every", "7", "--max-deliveries",
                              "2", "--count", "52", "--timeout", "30s"});
    ASSERT_EQ(c.wait(40s), std::optional<int>(0)) << c.err();
    std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint32_t>>> by_key;   // in the order printed
    for (const auto& line : c.out_lines()) {
        const auto j = nlohmann::json::parse(line);
        const auto seq = j["seq"].get<std::uint64_t>();
        EXPECT_EQ(j["key"], "k" + std::to_string(seq % 3)) << line;
        by_key[j["key"].get<std::string>()].emplace_back(seq, j["attempt"].get<std::uint32_t>());
    }
    ASSERT_EQ(by_key.size(), 3u);
    for (const auto& [key, handed] : by_key) {
        std::vector<std::pair<std::uint64_t, std::uint32_t>> expected;
        for (std::uint64_t seq = 1; seq <= 60; ++seq) {
            if (seq % 3 != std::stoul(key.substr(1))) continue;
            expected.emplace_back(seq, 1);
            if (seq % 7 == 0) expected.emplace_back(seq, 2);   // again, before the next of its key
        }
        EXPECT_EQ(handed, expected) << key;
    }
}

TEST_F(consume_cli, sigint_ends_consume_with_130) {
    spawn_publisher("50", "0");
    auto& c = spawn_consumer({});
    ASSERT_TRUE(wait_until([&] { return !handed_by(c).empty(); }, 20s)) << c.err();
    c.signal(SIGINT);
    EXPECT_EQ(c.wait(10s), std::optional<int>(130)) << c.err();
}

}  // namespace
}  // namespace zmesh::test
