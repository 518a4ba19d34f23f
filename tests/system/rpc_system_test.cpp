// SPDX-License-Identifier: MPL-2.0
// RPC across real processes: zmesh call against zmesh-node --serve, errors, and a server
// killed -9 while a call is pending.
#include "system_fixture.hpp"

#include <zmesh/node.hpp>

#include <csignal>
#include <fstream>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

// Returns: true when /proc says `pid` is stopped (state T).
bool stopped(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'T';
}

class rpc_system : public system_fixture {
protected:
    // Runs `zmesh call ARGS` on this test's mesh; returns the finished process.
    std::unique_ptr<process> call(std::vector<std::string> args) {
        args.insert(args.begin(), "call");
        args.insert(args.end(), {"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_)});
        auto p = std::make_unique<process>(tool("zmesh"), args);
        EXPECT_TRUE(p->wait(30s)) << "zmesh call did not finish";
        return p;
    }

    std::unique_ptr<node> client() const { return start_client(); }

    static bool serves(const node& n, const std::string& name, const std::string& method) {
        for (const auto& p : n.peers())
            if (p.name == name && p.state == peer_state::joined &&
                std::find(p.services.begin(), p.services.end(), method) != p.services.end())
                return true;
        return false;
    }
};

TEST_F(rpc_system, zmesh_call_echo_round_trip_prints_json_and_exits_zero) {
    // Up before the call: a call decides once its view of the mesh has settled.
    ASSERT_TRUE(spawn_node("srv", {"--serve", "echo", "--serve", "time"}).wait_for_line("started ", 10s));
    auto p = call({"echo", R"({"order": 42, "items": ["x", "y"]})"});
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    EXPECT_EQ(nlohmann::json::parse(p->out()),
              nlohmann::json::parse(R"({"order": 42, "items": ["x", "y"]})"));
    p = call({"--peer", "srv", "time"});
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    EXPECT_EQ(nlohmann::json::parse(p->out())["node"], "srv");
}

TEST_F(rpc_system, zmesh_call_reports_each_failure_kind_and_exits_non_zero) {
    ASSERT_TRUE(spawn_node("srv", {"--serve", "echo"}).wait_for_line("started ", 10s));
    auto p = call({"--peer", "srv", "no.such.method", "1"});
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1));
    EXPECT_NE(p->err().find("remote: code -32601"), std::string::npos) << p->err();
    p = call({"nobody.serves.this", "1", "--wait", "500ms"});   // a unit of its own
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1));
    EXPECT_NE(p->err().find("no_provider"), std::string::npos) << p->err();
    p = call({"echo", "{bad json"});
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1));
    EXPECT_NE(p->err().find("JSON"), std::string::npos) << p->err();
    p = call({"echo", "1", "--timeout", "0"});
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1));
    EXPECT_NE(p->err().find("timeout"), std::string::npos) << p->err();
}

TEST_F(rpc_system, call_to_a_server_killed_mid_call_fails_with_peer_lost_before_its_timeout) {
    // The server's "stats" handler is fast; to have a call pending when the process dies,
    // stop it first (SIGSTOP), call, then kill -9 it.
    auto& srv = spawn_node("srv", {"--serve", "echo"});
    auto c = client();
    ASSERT_TRUE(wait_until([&] { return serves(*c, "srv", "echo"); }, 10s));
    srv.signal(SIGSTOP);
    // kill() returns before the process is stopped: wait until the kernel says it is.
    ASSERT_TRUE(wait_until([&] { return stopped(srv.pid()); }, 5s));
    const auto t0 = std::chrono::steady_clock::now();
    auto f = c->call("echo", 1, 30s);
    ASSERT_EQ(f.wait_for(200ms), std::future_status::timeout);   // pending, not answered
    srv.signal(SIGKILL);
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    try {
        f.get();
        FAIL() << "the call succeeded";
    } catch (const rpc_error& e) {
        EXPECT_EQ(e.kind(), rpc_errc::peer_lost) << e.what();
    }
    EXPECT_LT(elapsed, 5s);
}

TEST_F(rpc_system, call_spreads_over_two_provider_processes) {
    spawn_node("a", {"--serve", "time"});
    spawn_node("b", {"--serve", "time"});
    auto c = client();
    ASSERT_TRUE(wait_until([&] { return serves(*c, "a", "time") && serves(*c, "b", "time"); }, 10s));
    std::map<std::string, int> by_server;
    for (int i = 0; i < 100; ++i) by_server[c->call("time", msgpack::type::nil_t(), 5s).get().from_name()]++;
    EXPECT_GE(by_server["a"], 30);
    EXPECT_GE(by_server["b"], 30);
}

TEST_F(rpc_system, ten_thousand_concurrent_calls_to_a_process_are_all_answered) {
    spawn_node("srv", {"--serve", "echo"});
    auto c = client();
    ASSERT_TRUE(wait_until([&] { return serves(*c, "srv", "echo"); }, 10s));
    std::vector<std::future<reply>> futures;
    futures.reserve(10000);
    for (int i = 0; i < 10000; ++i) futures.push_back(c->call("echo", i, 60s));
    for (int i = 0; i < 10000; ++i) ASSERT_EQ(futures[i].get().as<int>(), i);
}

}  // namespace
}  // namespace zmesh::test
