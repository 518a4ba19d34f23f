// SPDX-License-Identifier: MPL-2.0
// The durability promise with real processes killed -9: a work queue of zmesh consume
// processes loses nothing and hands nothing twice as new while its members, or its publisher,
// are killed and restarted; a killed member's messages go to another member soon; a poison
// message ends in the dead letters after exactly max deliveries while the rest flows; a
// consumer started after 5,000 messages replays them and goes on live with no gap or
// duplicate at the seam; a slow worker's late acks are refused and counted by the publisher.
#include "streams_fixture.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <set>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::uint64_t total = 10'000;
constexpr int kills = 20;

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

class streams_system : public streams_fixture {
protected:
    // Starts the work queue: three zmesh consume processes of the name "workers".
    void start_workers() {
        for (auto*& w : live_) w = &spawn_worker();
    }
    process& spawn_worker() {
        auto& p = spawn_consumer({"--from", "first"});
        workers_.push_back(&p);
        return p;
    }
    bool all_handed() const { return attempts_of(workers_).size() == total; }

    // Checks what every worker ever printed: each of 1..total handed, at attempt 1 at most
    // once, its payload the count that made it; prints the figures.
    void check_handed(const char* what, steady::time_point started) const {
        const auto all = handed_by(workers_);
        std::map<std::uint64_t, std::vector<std::uint32_t>> attempts;
        std::size_t redeliveries = 0, wrong_payload = 0;
        for (const auto& h : all) {
            attempts[h.seq].push_back(h.attempt);
            if (h.attempt > 1) ++redeliveries;
            if (h.payload["n"] != h.seq) ++wrong_payload;
        }
        std::size_t new_twice = 0, more_than_once = 0;
        for (const auto& [seq, a] : attempts) {
            if (std::count(a.begin(), a.end(), 1u) > 1) ++new_twice;
            if (a.size() > 1) ++more_than_once;
        }
        EXPECT_EQ(attempts.size(), total);
        EXPECT_EQ(attempts.begin()->first, 1u);
        EXPECT_EQ(attempts.rbegin()->first, total);
        EXPECT_EQ(new_twice, 0u) << "messages handed twice at attempt 1";
        EXPECT_EQ(wrong_payload, 0u);
        std::printf("[ figures  ] %s: %llu messages, %zu workers run, %zu lines handed, %zu at attempt > 1, "
                    "%zu messages handed more than once, %zu handed twice as new, %.1f s\n",
                    what, static_cast<unsigned long long>(attempts.size()), workers_.size(), all.size(),
                    redeliveries, more_than_once, new_twice, seconds_since(started));
    }

    // Shows that every message is acked at the publisher: with the workers stopped and the
    // publisher restarted to publish one more, a fresh worker of the name gets that one first,
    // as new: nothing held, waiting or unacked at or below `total` is left.
    void check_all_acked(process*& pub) {
        for (auto* w : live_) {
            w->signal(SIGTERM);
            EXPECT_EQ(w->wait(20s), std::optional<int>(128 + SIGTERM)) << w->err();
        }
        pub->signal(SIGTERM);
        ASSERT_EQ(pub->wait(20s), std::optional<int>(0)) << pub->err();
        pub = &spawn_publisher("10", std::to_string(total + 1));
        auto& fresh = spawn_consumer({"--count", "1", "--timeout", "30s"});
        ASSERT_EQ(fresh.wait(40s), std::optional<int>(0)) << fresh.err();
        const auto got = handed_by(fresh);
        ASSERT_EQ(got.size(), 1u) << fresh.out();
        EXPECT_EQ(got[0].seq, total + 1);
        EXPECT_EQ(got[0].attempt, 1u);
    }

    std::vector<process*> workers_;   // every worker started, killed or not: what they printed
    std::array<process*, 3> live_{};
};

TEST_F(streams_system, a_work_queue_loses_nothing_and_hands_nothing_twice_as_new_while_its_members_are_killed) {
    const auto started = steady::now();
    process* pub = &spawn_publisher("1000", std::to_string(total));
    start_workers();
    for (int k = 0; k < kills; ++k) {
        // Every 400 messages handed, one member is killed -9 and a new one started.
        const auto due = static_cast<std::size_t>(k + 1) * 400;
        ASSERT_TRUE(wait_until([&] { return handed_by(workers_).size() >= due; }, 30s, 50ms))
            << "kill " << k << ": " << handed_by(workers_).size() << " handed";
        auto*& victim = live_[static_cast<std::size_t>(k) % live_.size()];
        victim->signal(SIGKILL);
        ASSERT_TRUE(victim->wait(10s));
        victim = &spawn_worker();
    }
    ASSERT_TRUE(wait_until([&] { return all_handed(); }, 60s, 100ms)) << attempts_of(workers_).size();
    check_handed("members killed -9 and restarted 20 times", started);
    check_all_acked(pub);
}

TEST_F(streams_system, a_work_queue_loses_nothing_and_hands_nothing_twice_as_new_while_its_publisher_is_killed) {
    const auto started = steady::now();
    process* pub = &spawn_publisher("1000", std::to_string(total));
    start_workers();
    const auto highest = [&] {
        const auto a = attempts_of(workers_);
        return a.empty() ? 0 : a.rbegin()->first;
    };
    for (int k = 0; k < kills; ++k) {
        // Killed -9 each 450 messages the workers see, so always while it publishes; restarted
        // on its data directory, it counts on from its last stored sequence.
        const auto due = static_cast<std::uint64_t>(k + 1) * 450;
        ASSERT_TRUE(wait_until([&] { return highest() >= due; }, 30s, 50ms)) << "kill " << k << ": " << highest();
        pub->signal(SIGKILL);
        ASSERT_TRUE(pub->wait(10s));
        pub = &spawn_publisher("1000", std::to_string(total));
    }
    ASSERT_TRUE(wait_until([&] { return all_handed(); }, 60s, 100ms)) << attempts_of(workers_).size();
    check_handed("publisher killed -9 and restarted 20 times", started);
    check_all_acked(pub);
}

TEST_F(streams_system, a_member_killed_holding_messages_loses_them_to_another_member_at_once) {
    spawn_publisher("100", "0");
    std::vector<double> ms;
    for (int trial = 0; trial < 20; ++trial) {
        // The holder takes messages and settles none; the taker joins once it holds some.
        auto& holder = spawn_consumer({"--no-ack"});
        // A message new to the holder: one it got back from an earlier trial may be at its
        // last attempt, and go to the dead letters instead.
        const auto first_new = [&] {
            for (const auto& h : handed_by(holder))
                if (h.attempt == 1) return h.seq;
            return std::uint64_t{0};
        };
        ASSERT_TRUE(wait_until([&] { return first_new() != 0; }, 20s)) << holder.out();
        auto& taker = spawn_consumer({});
        ASSERT_TRUE(wait_until([&] { return !handed_by(taker).empty(); }, 20s)) << taker.err();
        const auto held = first_new();
        holder.signal(SIGKILL);
        const auto killed = steady::now();
        const auto taken = [&](const std::vector<handed>& of) {
            std::set<std::uint64_t> got;
            for (const auto& h : handed_by(taker))
                if (h.attempt > 1) got.insert(h.seq);
            return std::all_of(of.begin(), of.end(), [&](const handed& h) { return got.contains(h.seq); });
        };
        ASSERT_TRUE(wait_until([&] { return taken({handed{held}}); }, 20s, 2ms)) << "trial " << trial << ": " << taker.out();
        ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - killed).count());
        // The taker stops once it has all the holder held (but those at their last attempt,
        // dead letters now), so that none is handed on again.
        auto was_held = handed_by(holder);
        std::erase_if(was_held, [](const handed& h) { return h.attempt >= consume_options{}.max_deliveries; });
        ASSERT_TRUE(wait_until([&] { return taken(was_held); }, 20s)) << taker.out();
        taker.signal(SIGTERM);
        ASSERT_TRUE(taker.wait(20s));
        ASSERT_TRUE(holder.wait(10s));
    }
    std::sort(ms.begin(), ms.end());
    const auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * ms.size()))]; };
    std::printf("[ figures  ] redelivery after kill -9 of the member holding it, %zu trials: p50 %.0f ms, "
                "p99 %.0f ms, min %.0f ms, max %.0f ms\n",
                ms.size(), at(0.5), at(0.99), ms.front(), ms.back());
    // The target is 500 ms; the bound leaves room for a loaded machine.
    EXPECT_LT(at(0.99), 3000.0);
}

TEST_F(streams_system, a_poison_message_ends_in_the_dead_letters_after_max_deliveries_while_the_rest_flows) {
    spawn_publisher("1000", "100");
    // All are stored when the worker joins (a probe of another name saw the last): those
    // after 37 are in flight to it ahead of 37's retries.
    auto& probe = spawn_consumer({"--from", "100", "--count", "1", "--timeout", "30s"}, "jobs", "probe");
    ASSERT_EQ(probe.wait(40s), std::optional<int>(0)) << probe.err();
    // Seqs 37 and 74 are naked every time: 98 acked, each poison message tried 4 times.
    auto& worker = spawn_consumer({"--from", "first", "--nak-every", "37", "--max-deliveries", "4"});
    const auto tried = [&](std::uint64_t seq) {
        const auto all = handed_by(worker);
        return std::count_if(all.begin(), all.end(), [&](const handed& h) { return h.seq == seq; });
    };
    ASSERT_TRUE(wait_until([&] { return tried(37) == 4 && tried(74) == 4 && attempts_of({&worker}).size() == 100; }, 30s))
        << worker.out();
    worker.signal(SIGTERM);
    ASSERT_EQ(worker.wait(20s), std::optional<int>(128 + SIGTERM)) << worker.err();
    EXPECT_NE(worker.err().find("acked 98, naked 8 message(s)"), std::string::npos) << worker.err();
    std::map<std::uint64_t, std::vector<std::uint32_t>> attempts;
    std::size_t first_poison_done = 0, after_it_before = 0, line = 0;
    for (const auto& h : handed_by(worker)) {
        attempts[h.seq].push_back(h.attempt);
        ++line;
        if (h.seq == 37 && h.attempt == 4) first_poison_done = line;
        if (h.seq > 37 && h.seq != 74 && !first_poison_done) ++after_it_before;
    }
    ASSERT_EQ(attempts.size(), 100u);
    for (const auto& [seq, a] : attempts) {
        if (seq % 37 == 0)
            EXPECT_EQ(a, (std::vector<std::uint32_t>{1, 2, 3, 4})) << seq;
        else
            EXPECT_EQ(a, std::vector<std::uint32_t>{1}) << seq;
    }
    // The dead letters: each poison message once, with its attempts and last error.
    auto& dlq = spawn_consumer({"--from", "first", "--count", "2", "--json", "--timeout", "30s"}, "jobs.dlq", "inspect");
    ASSERT_EQ(dlq.wait(40s), std::optional<int>(0)) << dlq.err();
    std::vector<std::uint64_t> dead;
    for (const auto& l : dlq.out_lines()) {
        const auto j = nlohmann::json::parse(l)["payload"];
        EXPECT_EQ(j["stream"], "jobs");
        EXPECT_EQ(j["attempts"], 4);
        EXPECT_EQ(j["error"], "nak-every 37");
        dead.push_back(j["seq"].get<std::uint64_t>());
    }
    EXPECT_EQ(dead, (std::vector<std::uint64_t>{37, 74}));
    EXPECT_GT(after_it_before, 0u) << "the poison message held up the others";
    std::printf("[ figures  ] poison: seqs 37 and 74 tried 4 times each then dead-lettered; %zu later messages "
                "handed before 37's last attempt; 98 acked\n",
                after_it_before);
}

TEST_F(streams_system, a_consumer_started_after_5000_messages_replays_from_the_first_then_goes_on_live_without_a_gap_or_a_duplicate) {
    constexpr std::size_t backlog = 5'000, live = 3'000;
    // The publisher prints each event it publishes (--subscribe sees its own): its count is
    // how many it has stored, within a commit's 2 ms.
    auto& pub = spawn_node("pub", {"--data-dir", (dir_ / "pub").string(), "--stream", "jobs=jobs.", "--publish",
                                   "jobs.run", "--rate", "2000", "--count", "0", "--beacon-interval", "250ms",
                                   "--subscribe", "jobs."});
    ASSERT_TRUE(wait_until([&] { return pub.count_lines("event ") >= backlog; }, 60s, 20ms)) << pub.err();
    const auto stored_before = pub.count_lines("event ");
    const auto started = steady::now();
    auto& consumer = spawn_consumer({"--from", "first"});
    // Its lines are the messages in the order handed; the replay is over at the line of the
    // last message stored before it started.
    std::optional<double> replay_s;
    ASSERT_TRUE(wait_until([&] {
        const auto lines = consumer.out_lines().size();
        if (!replay_s && lines >= stored_before) replay_s = seconds_since(started);
        return lines >= stored_before + live;
    }, 120s, 10ms)) << consumer.out_lines().size() << " handed; " << consumer.err();
    const auto total_s = seconds_since(started);
    consumer.signal(SIGTERM);
    ASSERT_TRUE(consumer.wait(20s));
    pub.signal(SIGTERM);
    ASSERT_EQ(pub.wait(20s), std::optional<int>(0)) << pub.err();

    const auto handed = handed_by(consumer);
    const auto published = pub.count_lines("event ");
    ASSERT_GE(handed.size(), stored_before + live);
    std::size_t out_of_place = 0, not_new = 0, wrong_payload = 0;
    for (std::size_t i = 0; i < handed.size(); ++i) {
        if (handed[i].seq != i + 1) ++out_of_place;   // a gap, a duplicate or a swap
        if (handed[i].attempt != 1) ++not_new;
        if (handed[i].payload["n"] != handed[i].seq) ++wrong_payload;
    }
    EXPECT_EQ(out_of_place, 0u) << "the seq of line i is not i + 1";
    EXPECT_EQ(not_new, 0u);
    EXPECT_EQ(wrong_payload, 0u);
    EXPECT_LE(handed.size(), published);
    const auto stats = exit_stats(pub);
    ASSERT_FALSE(stats.is_null());
    EXPECT_EQ(stats["stream_stale_settles"], 0);
    ASSERT_TRUE(replay_s);
    std::printf("[ figures  ] replay: %zu stored before the consumer started, handed in %.2f s from its start "
                "(%.0f messages/s, process start and discovery included); then %zu more, live, in %.2f s, all in "
                "order at attempt 1; %zu published in all\n",
                stored_before, *replay_s, static_cast<double>(stored_before) / *replay_s, handed.size() - stored_before,
                total_s - *replay_s, published);
}

TEST_F(streams_system, a_slow_workers_late_acks_after_a_redelivery_are_refused_and_counted_by_the_publisher) {
    constexpr std::uint64_t total = 20;
    auto& pub = spawn_publisher("100", std::to_string(total));
    // The slow worker, alone at first, is handed all 20; it settles each 3 s after it came,
    // past the 2 s ack wait. The fast one joins meanwhile: when the ack waits run out, the 20
    // are handed again to the two in turn, so of the slow one's first two, one goes to the
    // fast one, and the slow one's ack of it comes late.
    auto& slow = spawn_consumer({"--from", "first", "--ack-wait", "2s", "--ack-after", "3s"});
    ASSERT_TRUE(wait_until([&] { return !slow.out_lines().empty(); }, 20s)) << slow.err();
    auto& fast = spawn_consumer({"--from", "first", "--ack-wait", "2s"});
    // A third line is printed after the second message's ack was made.
    ASSERT_TRUE(wait_until([&] { return slow.out_lines().size() >= 3; }, 30s)) << slow.out();
    ASSERT_TRUE(wait_until([&] { return attempts_of({&fast}).size() >= total / 2; }, 20s)) << fast.out();
    slow.signal(SIGTERM);
    ASSERT_TRUE(slow.wait(20s));
    fast.signal(SIGTERM);
    ASSERT_TRUE(fast.wait(20s));
    pub.signal(SIGTERM);
    ASSERT_EQ(pub.wait(20s), std::optional<int>(0)) << pub.err();

    const auto slow_got = handed_by(slow), fast_got = handed_by(fast);
    std::size_t redelivered_to_fast = 0;
    for (const auto& h : fast_got) redelivered_to_fast += h.attempt > 1;
    EXPECT_GE(redelivered_to_fast, 1u);
    const auto stats = exit_stats(pub);
    ASSERT_FALSE(stats.is_null());
    const auto stale = stats["stream_stale_settles"].get<std::uint64_t>();
    EXPECT_GE(stale, 1u) << stats.dump();
    std::printf("[ figures  ] late acks: the slow worker was handed %zu, the fast one %zu (%zu redeliveries); the "
                "publisher refused %llu stale settle(s)\n",
                slow_got.size(), fast_got.size(), redelivered_to_fast, static_cast<unsigned long long>(stale));
}

}  // namespace
}  // namespace zmesh::test
