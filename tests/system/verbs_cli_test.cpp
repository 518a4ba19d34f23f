// SPDX-License-Identifier: MPL-2.0
// The verbs a NATS user reaches for: zmesh reply (a responder run by a shell command), zmesh
// ls (members, services, topics) and zmesh check (a health check whose verdict is its exit
// status); and the mesh flags taken from the environment.
#include "system_fixture.hpp"

#include <csignal>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

class verbs_cli : public system_fixture {
protected:
    std::vector<std::string> on_mesh(std::vector<std::string> args, const std::string& mesh = {}) const {
        args.insert(args.end(), {"--mesh", mesh.empty() ? mesh_ : mesh, "--beacon-port", std::to_string(beacon_port_)});
        return args;
    }
    // Runs zmesh ARGS to the end.
    static std::unique_ptr<process> run(const std::vector<std::string>& args) {
        auto p = std::make_unique<process>(tool("zmesh"), args);
        EXPECT_TRUE(p->wait(60s)) << "zmesh did not finish";
        return p;
    }
    process& spawn_tool(const std::vector<std::string>& args) {
        return *procs_.emplace_back(std::make_unique<process>(tool("zmesh"), args));
    }
    // Returns once a member serves `method` (zmesh check as a readiness wait).
    void await_service(const std::string& method) {
        auto p = run(on_mesh({"check", "--expect-service", method, "--timeout", "30s"}));
        ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->out() << p->err();
    }
    // Starts nodes and returns once each sees every other joined.
    void mesh_of(const std::vector<std::pair<std::string, std::vector<std::string>>>& nodes) {
        std::vector<process*> started;
        std::vector<std::string> names;
        for (const auto& [name, extra] : nodes) {
            started.push_back(&spawn_node(name, extra));
            names.push_back(name);
        }
        for (std::size_t i = 0; i < started.size(); ++i) {
            auto others = names;
            others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
            ASSERT_TRUE(sees_joined(*started[i], others, 15s)) << names[i] << ": " << started[i]->out();
        }
    }
};

TEST_F(verbs_cli, reply_answers_each_call_with_its_commands_output) {
    spawn_tool(on_mesh({"reply", "upper", "--command", "tr a-z A-Z"}));
    await_service("upper");
    auto p = run(on_mesh({"call", "upper", R"({"item": "apple"})"}));
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    EXPECT_EQ(nlohmann::json::parse(p->out()), nlohmann::json::parse(R"({"ITEM": "APPLE"})"));
    // The caller is in the command's environment; text that is not JSON is one string.
    spawn_tool(on_mesh({"reply", "who", "--command", "cat >/dev/null; echo \"$ZMESH_METHOD for $ZMESH_CALLER\""}));
    await_service("who");
    p = run(on_mesh({"call", "who", "--name", "asker"}));
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    EXPECT_EQ(p->out(), "\"who for asker\"\n");
}

TEST_F(verbs_cli, a_failing_command_is_a_remote_error_with_its_status_and_stderr) {
    auto& server = spawn_tool(on_mesh({"reply", "reserve", "--command", "cat >/dev/null; echo 'out of stock' >&2; exit 3"}));
    await_service("reserve");
    auto p = run(on_mesh({"call", "reserve", "{}"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1));
    EXPECT_NE(p->err().find("remote: code 3: "), std::string::npos) << p->err();
    EXPECT_NE(p->err().find("exited with status 3: out of stock"), std::string::npos) << p->err();
    // The server says so too, and goes on serving; SIGTERM ends it well.
    EXPECT_TRUE(wait_until([&] { return server.err().find("out of stock") != std::string::npos; }, 5s)) << server.err();
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait(10s), std::optional<int>(0)) << server.err();
    EXPECT_NE(server.err().find("served 0 request(s) for reserve, 1 failed"), std::string::npos) << server.err();
}

TEST_F(verbs_cli, reply_needs_a_command) {
    auto p = run(on_mesh({"reply", "upper"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(2));
    EXPECT_NE(p->err().find("--command"), std::string::npos) << p->err();
}

TEST_F(verbs_cli, ls_lists_members_services_subscriptions_and_topics) {
    mesh_of({{"a", {"--serve", "echo", "--serve", "time"}},
             {"b", {"--subscribe", "orders."}},
             {"c", {"--publish", "orders.created", "--rate", "20"}}});
    auto p = run(on_mesh({"ls", "--json", "--listen", "1.5s"}));
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    const auto j = nlohmann::json::parse(p->out());
    std::vector<std::string> names;
    for (const auto& m : j["members"]) names.push_back(m["name"]);
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"})) << j.dump();
    EXPECT_EQ(j["services"], nlohmann::json::parse(R"({"echo": ["a"], "time": ["a"]})")) << j.dump();
    EXPECT_EQ(j["subscriptions"], nlohmann::json::parse(R"({"orders.": ["b"]})")) << j.dump();
    // An observer subscribed to everything hears what is published.
    EXPECT_EQ(j["topics"]["orders.created"]["from"], nlohmann::json::array({"c"})) << j.dump();
    EXPECT_GT(j["topics"]["orders.created"]["events"].get<int>(), 0) << j.dump();

    p = run(on_mesh({"ls"}));
    ASSERT_EQ(p->wait(0ms), std::optional<int>(0)) << p->err();
    const auto out = p->out();
    EXPECT_NE(out.find("mesh '" + mesh_ + "': 3 member(s)"), std::string::npos) << out;
    EXPECT_NE(out.find("NAME"), std::string::npos) << out;
    EXPECT_NE(out.find("echo, time"), std::string::npos) << out;
    EXPECT_NE(out.find("orders.: b"), std::string::npos) << out;
}

TEST_F(verbs_cli, ls_of_an_empty_mesh_fails_and_says_what_it_heard) {
    mesh_of({{"a", {}}});
    auto p = run(on_mesh({"ls"}, mesh_ + "x"));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1));
    EXPECT_NE(p->err().find("1 on '" + mesh_ + "'"), std::string::npos) << p->err();
}

TEST_F(verbs_cli, check_exit_status_is_the_verdict) {
    mesh_of({{"srv", {"--serve", "time"}}});
    auto p = run(on_mesh({"check", "--expect-peers", "1", "--expect-service", "time", "--expect-peer", "srv"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(0)) << p->out() << p->err();
    EXPECT_EQ(p->out().rfind("OK mesh '" + mesh_ + "'", 0), 0u) << p->out();
    p = run(on_mesh({"check", "--expect-service", "tmie"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1)) << p->out();
    EXPECT_NE(p->out().find("service tmie: not served (did you mean 'time'?)"), std::string::npos) << p->out();
    p = run(on_mesh({"check", "--expect-peers", "2", "--json"}));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(1)) << p->out();
    const auto j = nlohmann::json::parse(p->out());
    EXPECT_EQ(j["ok"], false);
    EXPECT_EQ(j["checks"][0], nlohmann::json::parse(R"({"check": "peers", "expected": 2, "found": 1, "ok": false})"));
    p = run(on_mesh({"check"}, mesh_ + "x"));
    EXPECT_EQ(p->wait(0ms), std::optional<int>(3)) << p->out();
    EXPECT_NE(p->out().find("1 on '" + mesh_ + "'"), std::string::npos) << p->out();
}

TEST_F(verbs_cli, check_with_a_timeout_waits_for_what_comes_later) {
    auto& probe = spawn_tool(on_mesh({"check", "--expect-peer", "late", "--expect-subscriber", "orders.created",
                                      "--timeout", "60s"}));
    spawn_node("late", {"--subscribe", "orders."});
    ASSERT_EQ(probe.wait(60s), std::optional<int>(0)) << probe.out() << probe.err();
    EXPECT_NE(probe.out().find("peer late: joined"), std::string::npos) << probe.out();
    EXPECT_NE(probe.out().find("topic orders.created: subscribed to by late"), std::string::npos) << probe.out();
}

TEST_F(verbs_cli, the_mesh_comes_from_the_environment_when_not_given) {
    mesh_of({{"srv", {"--serve", "echo"}}});
    const auto command = "ZMESH_MESH='" + mesh_ + "' exec " + tool("zmesh") + " call echo from-env --beacon-port " +
                         std::to_string(beacon_port_);
    process p("/bin/sh", {"-c", command});
    ASSERT_EQ(p.wait(60s), std::optional<int>(0)) << p.err();
    EXPECT_EQ(p.out(), "\"from-env\"\n");
    // A flag still wins over the environment.
    const auto wrong = "ZMESH_MESH=nowhere exec " + tool("zmesh") + " check --mesh '" + mesh_ + "' --beacon-port " +
                       std::to_string(beacon_port_);
    process q("/bin/sh", {"-c", wrong});
    EXPECT_EQ(q.wait(60s), std::optional<int>(0)) << q.out() << q.err();
}

}  // namespace
}  // namespace zmesh::test
