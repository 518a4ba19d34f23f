// SPDX-License-Identifier: MPL-2.0
// zmesh-node --gossip processes: a kill -9 is still seen at once (the link drops); a stopped
// process, whose links stay up and carry no libzmq heartbeat, is found dead by gossip and
// comes back after SIGCONT; links idle past the threshold close, after which a kill -9 is
// found by gossip; and a plain node in the mesh is judged by its silence.
#include "system_fixture.hpp"

#include <csignal>

namespace zmesh::test {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::vector<std::string> gossip_timing = {"--gossip", "--evasive", "500", "--expire", "1500"};

class gossip_trio : public system_fixture {
protected:
    // Starts gossiping nodes a, b and c, and waits until a and b see the other two joined.
    void SetUp() override {
        a_ = &spawn_node("a", gossip_timing);
        b_ = &spawn_node("b", gossip_timing);
        c_ = &spawn_node("c", gossip_timing);
        ASSERT_TRUE(sees_joined(*a_, {"b", "c"}, 5s)) << a_->out();
        ASSERT_TRUE(sees_joined(*b_, {"a", "c"}, 5s)) << b_->out();
    }
    process *a_ = nullptr, *b_ = nullptr, *c_ = nullptr;
};

TEST_F(gossip_trio, gossiping_processes_see_a_kill_9_at_once) {
    auto &a = *a_, &b = *b_, &c = *c_;
    c.signal(SIGKILL);
    EXPECT_TRUE(a.wait_for_line("left c ", 1500ms)) << a.out();
    EXPECT_TRUE(b.wait_for_line("left c ", 1500ms)) << b.out();
    for (auto* p : {&a, &b}) {
        p->signal(SIGTERM);
        ASSERT_EQ(p->wait(5s), std::optional<int>(0)) << p->err();
    }
}

TEST_F(gossip_trio, a_stopped_gossiping_process_is_found_dead_and_comes_back_after_sigcont) {
    auto &a = *a_, &b = *b_, &c = *c_;
    const auto t0 = steady_clock::now();
    c.signal(SIGSTOP);
    // Its links stay up: only gossip's probes can tell. Probe, indirect probes, suspicion,
    // then our own ping unanswered for `evasive`.
    EXPECT_TRUE(a.wait_for_line("left c ", 8s)) << a.out();
    EXPECT_TRUE(b.wait_for_line("left c ", 8s)) << b.out();
    std::cout << "SIGSTOP found by gossip in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count()
              << " ms\n";
    // Back: it hears itself dead, refutes, and is dialled again as the member it is.
    c.signal(SIGCONT);
    EXPECT_TRUE(wait_until([&] { return a.count_lines("joined c ") >= 2; }, 10s)) << a.out();
    EXPECT_TRUE(wait_until([&] { return b.count_lines("joined c ") >= 2; }, 10s)) << b.out();
    // Only gossip could find it: its probes went out and came back.
    a.signal(SIGTERM);
    ASSERT_EQ(a.wait(5s), std::optional<int>(0)) << a.err();
    const auto stats = exit_stats(a);
    EXPECT_GT(stats.value("gossip_sent", 0), 0) << stats.dump();
    EXPECT_GT(stats.value("gossip_received", 0), 0) << stats.dump();
}

// Past the threshold (here from the first member) links idle for --idle-link close, and nobody
// leaves for it; a kill -9 is then found by gossip alone, as no link drops.
TEST_F(system_fixture, idle_links_close_and_a_kill_9_is_then_found_by_gossip) {
    const std::vector<std::string> on_demand = {"--gossip", "--link-everyone-below", "0", "--idle-link", "300ms"};
    auto& a = spawn_node("a", on_demand);
    auto& b = spawn_node("b", on_demand);
    auto& c = spawn_node("c", on_demand);
    ASSERT_TRUE(sees_joined(a, {"b", "c"}, 5s)) << a.out();
    ASSERT_TRUE(sees_joined(b, {"a", "c"}, 5s)) << b.out();
    // (Waiting on a condition that must not come: a left, while the links go idle and close,
    // which takes their first round trip, 300 ms and the once-a-second check, with room.)
    EXPECT_FALSE(wait_until([&] { return a.count_lines("left ") + b.count_lines("left ") > 0; }, 4000ms))
        << a.out() << b.out();
    const auto t0 = steady_clock::now();
    c.signal(SIGKILL);
    for (auto* p : {&a, &b}) {
        ASSERT_TRUE(p->wait_for_line("left c ", 8s)) << p->out();
        for (const auto& line : p->out_lines())
            if (line.starts_with("left c ")) EXPECT_TRUE(line.ends_with(" expired")) << line << ": not by gossip";
    }
    std::cout << "kill -9 of a member with no link found by gossip in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count() << " ms\n";
    for (auto* p : {&a, &b}) {
        p->signal(SIGTERM);
        ASSERT_EQ(p->wait(5s), std::optional<int>(0)) << p->err();
        // At least one: it joined through a link, which went idle. Not two: a member that
        // learns another by gossip before hearing its beacon lists it and never links it.
        const auto stats = exit_stats(*p);
        EXPECT_GE(stats.value("links_idle_closed", 0), 1) << stats.dump();
    }
}

TEST_F(system_fixture, a_plain_node_among_gossiping_ones_is_judged_by_its_silence) {
    auto& a = spawn_node("a", gossip_timing);
    auto& p = spawn_node("p", {"--evasive", "500", "--expire", "1500"});
    ASSERT_TRUE(sees_joined(a, {"p"}, 5s)) << a.out();
    ASSERT_TRUE(sees_joined(p, {"a"}, 5s)) << p.out();
    // Stays joined past `expire` twice: a pings it (its link has no libzmq heartbeat).
    EXPECT_FALSE(a.wait_for_line("left p ", 3500ms)) << a.out();
    p.signal(SIGSTOP);
    EXPECT_TRUE(a.wait_for_line("left p ", 4s)) << a.out();
    p.signal(SIGCONT);
}

}  // namespace
}  // namespace zmesh::test
