// SPDX-License-Identifier: MPL-2.0
// Events across real processes: zmesh pub -> zmesh sub, losses past --hwm, late joiners,
// killed publishers, and the monitor's per-peer event counters.
#include "system_fixture.hpp"

#include <csignal>
#include <fstream>
#include <thread>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

class events_system : public system_fixture {
protected:
    // Starts `zmesh WORDS...` (a command and its own arguments) on this test's mesh.
    process& spawn_tool(std::vector<std::string> words) {
        procs_.push_back(std::make_unique<process>(tool("zmesh"), zmesh_args(std::move(words))));
        return *procs_.back();
    }
    std::vector<std::string> mesh_args() const {
        return {"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_)};
    }
    // Returns: `words` (a command and its own arguments), then this test's mesh flags.
    std::vector<std::string> zmesh_args(std::vector<std::string> words) const {
        const auto mesh = mesh_args();
        words.insert(words.end(), mesh.begin(), mesh.end());
        return words;
    }
    // Returns once a member subscribed to `topic` has said so (zmesh check as a readiness
    // wait): zmesh pub then finds it however loaded the machine.
    void await_subscriber(const std::string& topic, std::vector<std::string> extra = {}) {
        auto args = zmesh_args({"check", "--expect-subscriber", topic, "--timeout", "30s"});
        args.insert(args.end(), extra.begin(), extra.end());
        process p(tool("zmesh"), args);
        ASSERT_EQ(p.wait(60s), std::optional<int>(0)) << p.out() << p.err();
    }

    // Returns: the "event {JSON}" lines zmesh-node printed, parsed.
    static std::vector<nlohmann::json> events_of(const process& p) {
        std::vector<nlohmann::json> out;
        for (const auto& line : p.out_lines())
            if (line.starts_with("event ")) out.push_back(nlohmann::json::parse(line.substr(6)));
        return out;
    }

    // Asserts the events from `sender` form one run of consecutive seqs, and returns how many.
    static std::size_t consecutive_from(const std::vector<nlohmann::json>& events,
                                        const std::string& sender_id) {
        std::uint64_t last = 0;
        std::size_t n = 0;
        for (const auto& e : events) {
            if (e["sender"]["id"] != sender_id) continue;
            const auto seq = e["seq"].get<std::uint64_t>();
            if (n > 0) {
                EXPECT_EQ(seq, last + 1) << "gap after seq " << last;
            }
            last = seq;
            ++n;
        }
        return n;
    }

    static std::string id_of(const process& p) {
        // "started NAME ID mesh=..."
        for (const auto& line : p.out_lines())
            if (line.starts_with("started ")) {
                const auto a = line.find(' ', 8) + 1;
                return line.substr(a, line.find(' ', a) - a);
            }
        return {};
    }
};

TEST_F(events_system, zmesh_sub_receives_ten_thousand_events_from_zmesh_pub_without_gaps) {
    auto& sub = spawn_tool({"sub", "orders.", "--count", "10000", "--json", "--timeout", "60"});
    await_subscriber("orders.created");
    auto& pub = spawn_tool({"pub", "orders.created", R"({"id": 7, "items": ["a", "b"]})", "--count", "10000"});

    ASSERT_EQ(pub.wait(60s), std::optional<int>(0)) << pub.err();
    ASSERT_EQ(sub.wait(60s), std::optional<int>(0)) << sub.err();
    const auto lines = sub.out_lines();
    ASSERT_EQ(lines.size(), 10000u);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto e = nlohmann::json::parse(lines[i]);
        ASSERT_EQ(e["seq"], i + 1);
        ASSERT_EQ(e["topic"], "orders.created");
        ASSERT_EQ(e["payload"]["items"][1], "b");
    }
    EXPECT_NE(sub.err().find("0 gap(s)"), std::string::npos) << sub.err();
}

TEST_F(events_system, late_subscriber_gets_every_later_event_and_survives_publisher_restart) {
    auto& pub = spawn_node("pub", {"--publish", "ticks.now", "--rate", "200"});
    ASSERT_TRUE(pub.wait_for_line("started ", 10s));
    auto& sub = spawn_node("sub", {"--subscribe", "ticks."});
    ASSERT_TRUE(wait_until([&] { return events_of(sub).size() >= 100; }, 20s));
    const auto first_id = id_of(pub);
    const auto before = consecutive_from(events_of(sub), first_id);
    EXPECT_GE(before, 100u);

    // kill -9 the publisher and start a new one: the subscriber never subscribes again.
    pub.signal(SIGKILL);
    ASSERT_TRUE(pub.wait(10s));
    ASSERT_TRUE(sub.wait_for_line("left pub ", 5s));
    auto& pub2 = spawn_node("pub", {"--publish", "ticks.now", "--rate", "200"});
    ASSERT_TRUE(pub2.wait_for_line("started ", 10s));
    const auto second_id = id_of(pub2);
    ASSERT_TRUE(wait_until([&] {
        const auto events = events_of(sub);
        return std::count_if(events.begin(), events.end(), [&](const auto& e) {
                   return e["sender"]["id"] == second_id;
               }) >= 100;
    }, 20s));
    const auto events = events_of(sub);
    EXPECT_GE(consecutive_from(events, second_id), 100u);
    EXPECT_GE(consecutive_from(events, first_id), before);
}

TEST_F(events_system, monitor_reports_event_counters_per_peer) {
    auto& pub = spawn_node("pub", {"--publish", "a.b", "--rate", "100"});
    auto& sub = spawn_node("sub", {"--subscribe", "a."});
    ASSERT_TRUE(wait_until([&] { return events_of(sub).size() >= 20; }, 20s));
    (void)pub;
    const auto doc = monitor_once(10.0);
    ASSERT_TRUE(doc.is_object());
    std::map<std::string, nlohmann::json> by_name;
    for (const auto& p : doc["peers"]) by_name[p["name"]] = p;
    ASSERT_EQ(by_name.size(), 2u) << doc.dump();
    EXPECT_GE(by_name["pub"]["counters"]["events_out"].get<int>(), 20) << doc.dump();
    EXPECT_GE(by_name["sub"]["counters"]["events_in"].get<int>(), 20) << doc.dump();
    EXPECT_EQ(by_name["sub"]["counters"]["events_gaps"], 0) << doc.dump();
    EXPECT_EQ(by_name["sub"]["subscriptions"], nlohmann::json::array({"a."})) << doc.dump();
}

TEST_F(events_system, zmesh_tool_refuses_bad_input_with_one_line) {
    struct bad_case {
        std::vector<std::string> args;
        int status;
        const char* mentions;
    };
    const std::vector<bad_case> cases = {
        {{"pub", "t", "{not json"}, 1, "JSON"},
        {{"pub", "t"}, 2, "missing BODY"},
        {{"pub", "t", "1", "extra"}, 2, "unexpected argument 'extra'"},
        {{"pub", "", "1"}, 1, "topic"},
        {{"pub", "t", "1", "--rate", "-1"}, 1, "rate"},
        {{"sub", "--count", "x"}, 2, "count"},
        {{"nope"}, 2, "nope"},
        {{"pub", "t", "1", "--wait", "0.2"}, 1, "no beacon of any mesh"},   // nobody there
    };
    for (const auto& c : cases) {
        auto args = c.args;
        args.insert(args.end(), {"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_)});
        process p(tool("zmesh"), args);
        ASSERT_EQ(p.wait(20s), std::optional<int>(c.status)) << c.args[0] << ": " << p.err();
        const auto err = p.err();
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
        EXPECT_NE(err.find(c.mentions), std::string::npos) << err;
    }
}

TEST_F(events_system, zmesh_sub_short_of_its_count_exits_non_zero_and_says_what_came) {
    auto& sub = spawn_tool({"sub", "orders.", "--count", "5"});
    await_subscriber("orders.created");
    auto& pub = spawn_tool({"pub", "orders.created", "{}", "--count", "3"});
    ASSERT_EQ(pub.wait(60s), std::optional<int>(0)) << pub.err();
    ASSERT_TRUE(wait_until([&] { return sub.out_lines().size() == 3; }, 20s)) << sub.out();
    sub.signal(SIGINT);
    ASSERT_EQ(sub.wait(10s), std::optional<int>(1)) << sub.err();
    EXPECT_NE(sub.err().find("received 3 of 5 event(s), 0 gap(s)"), std::string::npos) << sub.err();
    EXPECT_NE(sub.err().find("interrupted with 3 of 5"), std::string::npos) << sub.err();
    // Timed out with nothing: the same, said so.
    process lonely(tool("zmesh"), zmesh_args({"sub", "--count", "1", "--timeout", "1s"}));
    ASSERT_EQ(lonely.wait(30s), std::optional<int>(1)) << lonely.err();
    EXPECT_NE(lonely.err().find("timed out with 0 of 1"), std::string::npos) << lonely.err();
}

TEST_F(events_system, zmesh_sub_whose_publisher_left_short_of_count_ends_promptly_and_counts_the_rest_as_lost) {
    // A publisher far faster than the subscriber, with room for 100 events queued for it:
    // libzmq drops most of them, gaps and the tail alike, and says nothing.
    auto& sub = spawn_tool({"sub", "ev.", "--count", "100000"});
    await_subscriber("ev.x");
    auto& pub = spawn_tool({"pub", "ev.x", "1", "--count", "100000", "--hwm", "100"});
    ASSERT_EQ(pub.wait(60s), std::optional<int>(0)) << pub.err();
    const auto left_at = std::chrono::steady_clock::now();
    // Said before it published: what it cannot count, the subscriber will.
    EXPECT_NE(pub.err().find("note: --count 100000 is above --hwm 100: a subscriber slower than this publisher "
                             "loses whatever passes 100 queued events, dropped silently by libzmq"),
              std::string::npos) << pub.err();
    EXPECT_LT(pub.err().find("note: "), pub.err().find("published ")) << pub.err();
    // Its publisher gone, the subscriber waits half a second for what was on the way, not
    // forever.
    const auto status = sub.wait(10s);
    const auto took = std::chrono::steady_clock::now() - left_at;
    ASSERT_EQ(status, std::optional<int>(1)) << sub.err();
    EXPECT_LT(took, 5s) << sub.err();
    const auto received = sub.out_lines().size();
    ASSERT_GT(received, 0u) << sub.err();
    ASSERT_LT(received, 100000u) << "nothing was lost: the test forced no loss";
    const auto err = sub.err();
    EXPECT_NE(err.find("received " + std::to_string(received) + " of 100000 event(s), "), std::string::npos) << err;
    EXPECT_NE(err.find("zmesh sub: error: every publisher left short of --count: " +
                       std::to_string(100000 - received) + " of 100000 event(s) not received; "),
              std::string::npos) << err;
    std::printf("zmesh pub --hwm 100 --count 100000: the subscriber received %zu, ended %lld ms after the "
                "publisher\n%s", received,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()), err.c_str());
}

TEST_F(events_system, zmesh_sub_waits_for_a_publisher_that_comes_later) {
    auto& sub = spawn_tool({"sub", "ticks.", "--count", "3"});
    // Its view settled with no one in it: it says so, and goes on waiting.
    ASSERT_TRUE(wait_until([&] { return sub.err().find("waiting for publishers") != std::string::npos; }, 20s))
        << sub.err();
    EXPECT_TRUE(sub.running());
    spawn_node("ticker", {"--publish", "ticks.now", "--rate", "20"});
    ASSERT_EQ(sub.wait(30s), std::optional<int>(0)) << sub.err();
    EXPECT_EQ(sub.out_lines().size(), 3u);
}

TEST_F(events_system, zmesh_sub_ends_when_its_reader_is_gone) {
    spawn_node("ticker", {"--publish", "ticks.now", "--rate", "50"});
    // `zmesh sub | head -2`: once head has exited, the next line cannot be written.
    std::string command = tool("zmesh") + " sub ticks.";
    for (const auto& a : mesh_args()) command += " '" + a + "'";
    process pipeline("/bin/sh", {"-c", command + " | head -2"});
    ASSERT_EQ(pipeline.wait(30s), std::optional<int>(0)) << pipeline.err();
    EXPECT_EQ(pipeline.out_lines().size(), 2u) << pipeline.out();
    EXPECT_NE(pipeline.err().find("received "), std::string::npos) << pipeline.err();
}

TEST_F(events_system, zmesh_pub_says_who_subscribes_to_its_topic) {
    spawn_node("orders-sub", {"--subscribe", "orders."});
    await_subscriber("orders.created");
    const auto pub = [&](std::vector<std::string> extra) {
        extra.insert(extra.begin(), "pub");
        auto p = std::make_unique<process>(tool("zmesh"), zmesh_args(std::move(extra)));
        EXPECT_TRUE(p->wait(60s));
        return p;
    };
    auto p = pub({"orders.created", "1", "--count", "20", "--hwm", "10"});
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    EXPECT_NE(p->err().find("published 20 event(s) on orders.created to 1 subscriber(s) (orders-sub)"),
              std::string::npos) << p->err();
    EXPECT_NE(p->err().find("note: --count 20 is above --hwm 10: a subscriber slower than this publisher loses"),
              std::string::npos) << p->err();
    // No one subscribes to this one: by default that is an error, at once...
    p = pub({"stock.changed", "1"});
    ASSERT_EQ(p->wait(0ms), std::optional<int>(1)) << p->err();
    EXPECT_NE(p->err().find("no member subscribe(s) to 'stock.changed', --wait-peers wants 1; "
                            "subscriptions: orders-sub: orders."), std::string::npos) << p->err();
    // ...and with --wait-peers 0 it is said.
    p = pub({"stock.changed", "1", "--wait-peers", "0"});
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    EXPECT_NE(p->err().find("no member subscribes to it: no one received them"), std::string::npos) << p->err();
}

TEST_F(events_system, slow_subscriber_never_blocks_the_publisher_and_both_stay_bounded) {
    // The subscriber takes 20 ms per event (at most 50/s) while the publisher sends 20,000/s.
    auto& sub = spawn_node("slow", {"--subscribe", "flood.", "--handler-delay", "20"});
    auto& pub = spawn_node("fast", {"--publish", "flood.x", "--rate", "20000"});
    // The slow node prints its peer events on the same thread as its events, behind the
    // backlog: ask the fast one, and wait for the first event.
    ASSERT_TRUE(sees_joined(pub, {"slow"}, 10s)) << pub.out();
    ASSERT_TRUE(sub.wait_for_line("event ", 10s)) << sub.err();
    std::uint64_t pub_peak = 0, sub_peak = 0, sub_early = 0;
    const auto end = std::chrono::steady_clock::now() + 6s;
    for (int tick = 0; std::chrono::steady_clock::now() < end; ++tick) {
        // Sampling memory on a clock is the point here, not synchronisation.
        std::this_thread::sleep_for(200ms);
        pub_peak = std::max(pub_peak, rss_kib(pub.pid()));
        const auto s = rss_kib(sub.pid());
        sub_peak = std::max(sub_peak, s);
        if (tick == 10) sub_early = sub_peak;
    }
    // The subscriber first, and alone: stopped together, the publisher's LEAVE can reach it
    // before it prints its counters, and its peers_left of 1 would be that, not the flood.
    sub.signal(SIGTERM);
    // Its queue (thousands of events at 20 ms each) is dropped at stop, not worked off.
    const auto sub_status = sub.wait(10s);
    pub.signal(SIGTERM);
    const auto pub_status = pub.wait(10s);
    ASSERT_EQ(pub_status, std::optional<int>(0)) << pub.err();
    ASSERT_EQ(sub_status, std::optional<int>(0)) << sub.err();
    const auto ps = exit_stats(pub), ss = exit_stats(sub);
    // Printed first, so that a failure below comes with every figure of the run.
    std::printf("slow subscriber: publisher sent %lld, subscriber took %lld; RSS pub peak %llu KiB, "
                "sub %llu KiB at 2 s, peak %llu KiB\npublisher stats %s\nsubscriber stats %s\n",
                static_cast<long long>(ps.value("events_out", 0)), static_cast<long long>(ss.value("events_in", 0)),
                static_cast<unsigned long long>(pub_peak), static_cast<unsigned long long>(sub_early),
                static_cast<unsigned long long>(sub_peak), ps.dump().c_str(), ss.dump().c_str());
    // Its own table never lost the flooding publisher (its printed lines lag the backlog).
    EXPECT_EQ(ss.value("peers_left", 1), 0) << "the flood made the publisher look dead: " << ss.dump();
    // The publisher kept its pace (it never waited for the slow one)...
    EXPECT_GT(ps.value("events_out", 0), 50000) << ps.dump();
    // ...the subscriber took a fraction and counted the rest as dropped (gaps) or paused.
    EXPECT_LT(ss.value("events_in", 0), ps.value("events_out", 0) / 2) << ss.dump();
    EXPECT_GT(ss.value("events_gaps", 0) + ss.value("receive_paused", 0), 0) << ss.dump();
    // Bounded: queues are capped (HWMs, receive_queue), so memory stops growing.
    EXPECT_LT(pub_peak, 200u * 1024) << "publisher KiB";
    EXPECT_LT(sub_peak, 200u * 1024) << "subscriber KiB";
    EXPECT_LT(sub_peak, sub_early + 32u * 1024) << "subscriber still growing: " << sub_early << " -> " << sub_peak;
}

}  // namespace
}  // namespace zmesh::test
