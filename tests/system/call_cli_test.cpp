// SPDX-License-Identifier: MPL-2.0
// zmesh call as a user meets it: a call no one can answer fails as soon as the view of the
// mesh has settled, within 1.5 s whatever --wait, saying what it saw (the methods served, a
// closest name, other meshes on the beacon port); a call right after a member started, or
// with --wait 0, still succeeds; bodies come as bare words or from stdin; the caller is an
// observer, so members do not log it.
#include "system_fixture.hpp"

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// What a user waits at most for "no": the caller asks for beacons, so it need not listen for
// a whole beacon interval (1 s) and then some.
constexpr auto prompt = 1500ms;

class call_cli : public system_fixture {
protected:
    std::vector<std::string> on_mesh(std::vector<std::string> args, const std::string& mesh = {}) const {
        args.insert(args.end(), {"--mesh", mesh.empty() ? mesh_ : mesh, "--beacon-port", std::to_string(beacon_port_)});
        return args;
    }
    // Runs zmesh ARGS to the end. Returns: the process and how long it ran.
    std::pair<std::unique_ptr<process>, clock_type::duration> run(const std::vector<std::string>& args) {
        const auto t0 = clock_type::now();
        auto p = std::make_unique<process>(tool("zmesh"), args);
        EXPECT_TRUE(p->wait(60s)) << "zmesh did not finish";
        return {std::move(p), clock_type::now() - t0};
    }
    // Starts zmesh-node NAME with `extra` flags, logging at `log_level`; returns once it is up.
    process& server(const std::string& name, std::vector<std::string> extra = {},
                    const std::string& log_level = "warn") {
        std::vector<std::string> args = {"--name", name, "--mesh", mesh_, "--beacon-port",
                                         std::to_string(beacon_port_), "--log-level", log_level};
        args.insert(args.end(), extra.begin(), extra.end());
        auto& p = *procs_.emplace_back(std::make_unique<process>(tool("zmesh-node"), args));
        EXPECT_TRUE(p.wait_for_line("started ", 10s)) << p.err();
        return p;
    }
};

TEST_F(call_cli, a_mistyped_method_fails_long_before_wait_with_the_closest_name) {
    server("srv", {"--serve", "time", "--serve", "echo"});
    // --wait 30s is the most it would wait for the view to settle; it settles once the member
    // that answered has been quiet for a moment, and the answer comes then.
    const auto [p, took] = run(on_mesh({"call", "tmie", "--wait", "30s"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1)) << p->err();
    const auto err = p->err();
    EXPECT_NE(err.find("no_provider: no member of mesh '" + mesh_ + "' serves 'tmie' (did you mean 'time'?)"),
              std::string::npos) << err;
    EXPECT_NE(err.find("echo (srv), time (srv)"), std::string::npos) << err;
    EXPECT_LT(took, prompt) << err;
}

TEST_F(call_cli, a_gossiping_mesh_whose_members_beacon_seldom_is_found_at_once) {
    // Three members that beacon every 3 s alone: knowing each other, each beacons about every
    // 9 s (the mesh as one, every 3 s), far less often than the caller waits for a first
    // beacon. The caller asks, and a member answers within 100 ms.
    const std::vector<std::string> seldom = {"--gossip", "--beacon-interval", "3s"};
    auto& a = server("a", {"--gossip", "--beacon-interval", "3s", "--serve", "echo"}, "info");
    server("b", seldom, "info");
    server("c", seldom, "info");
    ASSERT_TRUE(sees_joined(a, {"b", "c"}, 15s)) << a.out();
    for (int i = 0; i < 4; ++i) {
        const auto [p, took] = run(on_mesh({"call", "echo", "[7]"}));
        EXPECT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
        EXPECT_NE(p->out().find("[7]"), std::string::npos) << p->out();
        EXPECT_LT(took, 5s) << p->err();
    }
}

TEST_F(call_cli, without_wait_a_missing_method_fails_once_the_view_settled) {
    server("srv", {"--serve", "echo"});
    const auto [p, took] = run(on_mesh({"call", "inventory.reserve", "{}"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1)) << p->err();
    EXPECT_NE(p->err().find("serves 'inventory.reserve'; 1 member(s) serve: echo (srv)"), std::string::npos) << p->err();
    EXPECT_EQ(p->err().find("did you mean"), std::string::npos) << "no name is close: " << p->err();
    EXPECT_LT(took, prompt) << p->err();
}

TEST_F(call_cli, a_good_call_right_after_a_member_started_succeeds) {
    // The caller takes a mesh for empty within a second: a member that has just started is
    // found by then, from its first beacon or its answer to the caller's question.
    const auto base = mesh_;
    for (int i = 0; i < 3; ++i) {
        mesh_ = base + "-" + std::to_string(i);   // each its own mesh: no older member vouches for it
        server("srv", {"--serve", "echo"});
        const auto [p, took] = run(on_mesh({"call", "echo", std::to_string(i)}));
        EXPECT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
        EXPECT_EQ(p->out(), std::to_string(i) + "\n") << p->err();
    }
}

TEST_F(call_cli, the_wrong_mesh_names_the_meshes_heard_on_the_beacon_port) {
    server("a", {"--serve", "time"});
    server("b");
    const auto wrong = mesh_.substr(0, mesh_.size() - 1) + "#";   // one letter off
    const auto [p, took] = run(on_mesh({"call", "time", "--wait", "30s"}, wrong));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1)) << p->err();
    const auto err = p->err();
    // Another mesh's nodes do not answer the caller's questions: it tells the mesh empty once
    // it heard one of them beacon (each does once a second). Under load the other may be heard
    // late, so the count is not pinned down.
    EXPECT_NE(err.find("no_provider: no node on mesh '" + wrong + "'; "), std::string::npos) << err;
    EXPECT_NE(err.find(" on '" + mesh_ + "'"), std::string::npos) << err;
    EXPECT_NE(err.find("did you mean '--mesh " + mesh_ + "'?"), std::string::npos) << err;
    EXPECT_LT(took, prompt) << err;
}

TEST_F(call_cli, an_empty_beacon_port_is_said_to_be_empty) {
    const auto [p, took] = run(on_mesh({"call", "time"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1)) << p->err();
    EXPECT_NE(p->err().find("no beacon of any mesh came to port " + std::to_string(beacon_port_)), std::string::npos)
        << p->err();
    // That no node beacons is known only once each had its interval (1 s) and the time to be
    // heard; not sooner, and not much later.
    EXPECT_GE(took, 1500ms) << p->err();
    EXPECT_LT(took, 10s) << p->err();
}

TEST_F(call_cli, an_unknown_peer_is_named_with_the_members_there_are) {
    server("stock", {"--serve", "echo"});
    const auto [p, took] = run(on_mesh({"call", "--peer", "stok", "echo", "1"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1)) << p->err();
    EXPECT_NE(p->err().find("no member named 'stok' (did you mean 'stock'?); members: stock"), std::string::npos)
        << p->err();
    EXPECT_LT(took, prompt) << p->err();
    // A member that does not serve the method says what it does serve.
    const auto [q, _] = run(on_mesh({"call", "--peer", "stock", "ehco", "1"}));
    EXPECT_EQ(q->wait(0ms), std::optional<int>(1)) << q->err();
    EXPECT_NE(q->err().find("remote: code -32601"), std::string::npos) << q->err();
    EXPECT_NE(q->err().find("stock serves: echo (did you mean 'echo'?)"), std::string::npos) << q->err();
}

TEST_F(call_cli, wait_zero_still_makes_a_good_call) {
    server("srv", {"--serve", "echo"});
    const auto [p, took] = run(on_mesh({"call", "echo", "[1, 2]", "--wait", "0"}));
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    EXPECT_EQ(p->out(), "[1,2]\n");
}

TEST_F(call_cli, a_bare_word_is_a_string_and_a_dash_reads_stdin) {
    server("srv", {"--serve", "echo"});
    const auto [p, _] = run(on_mesh({"call", "echo", "hello"}));
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    EXPECT_EQ(p->out(), "\"hello\"\n");
    std::string command = "printf '{\"order\": [1, 2]}\\n' | " + tool("zmesh");
    for (const auto& a : on_mesh({"call", "echo", "-"})) command += " '" + a + "'";
    process piped("/bin/sh", {"-c", command});
    ASSERT_EQ(piped.wait(60s), std::optional<int>(0)) << piped.err();
    EXPECT_EQ(nlohmann::json::parse(piped.out()), nlohmann::json::parse(R"({"order": [1, 2]})"));
}

TEST_F(call_cli, the_caller_is_an_observer_members_do_not_log) {
    auto& srv = server("srv", {"--serve", "echo"}, "info");
    auto& shown = server("shown", {"--show-observers"});
    // --peer by name: the caller waits for a quiet table (no handshake in flight) before it
    // calls, so it has met both members by then.
    const auto [p, _] = run(on_mesh({"call", "--peer", "srv", "echo", "1", "--name", "caller-x"}));
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    // The one that shows observers printed it, the other kept quiet on stdout and stderr alike.
    ASSERT_TRUE(shown.wait_for_line("joined caller-x ", 10s)) << shown.out();
    EXPECT_NE(shown.out().find(" observer"), std::string::npos) << shown.out();
    EXPECT_EQ(srv.out().find("caller-x"), std::string::npos) << srv.out();
    EXPECT_EQ(srv.err().find("caller-x"), std::string::npos) << srv.err();
}

TEST_F(call_cli, log_lines_carry_an_iso_8601_time_to_the_millisecond) {
    auto& srv = server("srv", {}, "info");
    ASSERT_TRUE(wait_until([&] { return !srv.err().empty(); }, 10s));
    const auto line = srv.err().substr(0, srv.err().find('\n'));
    // 2025-01-31T12:34:56.789Z info [srv] ...
    ASSERT_GE(line.size(), 25u) << line;
    for (std::size_t i : {4u, 7u}) EXPECT_EQ(line[i], '-') << line;
    EXPECT_EQ(line[10], 'T') << line;
    EXPECT_EQ(line[19], '.') << line;
    EXPECT_EQ(line.substr(23, 2), "Z ") << line;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u, 11u, 12u, 14u, 15u, 17u, 18u, 20u, 21u, 22u})
        EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(line[i]))) << line;
}

}  // namespace
}  // namespace zmesh::test
