// SPDX-License-Identifier: MPL-2.0
// The members' streams administered from the command line, against zmesh-node processes:
// zmesh stream ls/info/add/rm, zmesh pub --stream, zmesh dlq ls/requeue after a poison
// message reached the dead letters, a node that does not allow writes, and the exit statuses
// and error lines of each; and zmesh-monitor showing the streams.
#include "streams_fixture.hpp"

#include <csignal>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

class stream_admin_cli : public streams_fixture {
protected:
    // Runs `zmesh ARGS` on this test's mesh to its end.
    process& run(std::vector<std::string> args) {
        procs_.push_back(std::make_unique<process>(tool("zmesh"), on_mesh(std::move(args))));
        auto& p = *procs_.back();
        EXPECT_TRUE(p.wait(30s).has_value()) << "zmesh did not end";
        return p;
    }
    static int status(process& p) { return p.wait(0s).value_or(-1); }
    // Starts zmesh-node NAME with a data directory and the stream jobs=jobs. (and `extra`).
    process& spawn_holder(const std::string& name, std::vector<std::string> extra) {
        std::vector<std::string> args{"--data-dir", (dir_ / name).string(), "--stream", "jobs=jobs.",
                                      "--beacon-interval", "250ms"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto& p = spawn_node(name, args);
        EXPECT_TRUE(p.wait_for_line("started ", 10s)) << p.err();
        return p;
    }
    nlohmann::json info(const std::string& stream) {
        auto& p = run({"stream", "info", stream, "--json"});
        if (status(p) != 0) return nullptr;
        return nlohmann::json::parse(p.out(), nullptr, false);
    }
};

TEST_F(stream_admin_cli, streams_are_listed_added_published_into_and_removed_on_a_member) {
    spawn_holder("pub", {"--stream-admin"});
    spawn_node("plain", {"--beacon-interval", "250ms"});

    auto& ls = run({"stream", "ls", "--json"});
    ASSERT_EQ(status(ls), 0) << ls.err();
    const auto listed = nlohmann::json::parse(ls.out());
    ASSERT_EQ(listed["streams"].size(), 1u) << ls.out();   // plain holds none: left out
    EXPECT_EQ(listed["streams"][0]["node"], "pub");
    EXPECT_EQ(listed["streams"][0]["name"], "jobs");
    EXPECT_EQ(listed["streams"][0]["prefix"], "jobs.");

    auto& add = run({"stream", "add", "orders", "--prefix", "orders.", "--max-messages", "100", "--node", "pub"});
    ASSERT_EQ(status(add), 0) << add.err();
    EXPECT_NE(add.out().find("added orders: prefix orders."), std::string::npos) << add.out();
    auto& stored = run({"pub", "--stream", "orders.placed", "{\"id\": 1}"});
    ASSERT_EQ(status(stored), 0) << stored.err();
    EXPECT_NE(stored.err().find("stored on pub"), std::string::npos) << stored.err();
    const auto orders = info("orders");
    ASSERT_FALSE(orders.is_null());
    EXPECT_EQ(orders["nodes"][0]["max_messages"], 100);
    EXPECT_EQ(orders["nodes"][0]["last_seq"], 1);

    auto& untaken = run({"pub", "--stream", "invoices.sent", "1"});
    EXPECT_EQ(status(untaken), 1);
    EXPECT_NE(untaken.err().find("no stream takes topic 'invoices.sent' on any member"), std::string::npos) << untaken.err();
    auto& nobody = run({"pub", "--stream", "--node", "pbu", "orders.placed", "1"});
    EXPECT_EQ(status(nobody), 1);
    EXPECT_NE(nobody.err().find("no member named 'pbu' (did you mean 'pub'?)"), std::string::npos) << nobody.err();

    auto& rm = run({"stream", "rm", "orders", "--node", "pub"});
    ASSERT_EQ(status(rm), 0) << rm.err();
    auto& gone = run({"stream", "info", "orders"});
    EXPECT_EQ(status(gone), 1);
    EXPECT_NE(gone.err().find("no stream 'orders' on any member"), std::string::npos) << gone.err();
    auto& again = run({"stream", "rm", "orders", "--node", "pub"});
    EXPECT_EQ(status(again), 1);
    EXPECT_NE(again.err().find("pub (code -32011): no stream 'orders'"), std::string::npos) << again.err();
    auto& none = run({"stream", "rm", "jobs", "--node", "plain"});
    EXPECT_EQ(status(none), 1);
    EXPECT_NE(none.err().find("no data directory"), std::string::npos) << none.err();
}

TEST_F(stream_admin_cli, bad_flags_and_subcommands_exit_2_with_the_near_names) {
    auto& typo = run({"stream", "lss"});
    EXPECT_EQ(status(typo), 2);
    EXPECT_NE(typo.err().find("unknown subcommand 'lss' (did you mean 'ls'?)"), std::string::npos) << typo.err();
    auto& flag = run({"stream", "ls", "--bogus"});
    EXPECT_EQ(status(flag), 2) << flag.err();
    auto& prefix = run({"stream", "add", "x", "--node", "pub"});
    EXPECT_EQ(status(prefix), 2);
    EXPECT_NE(prefix.err().find("missing --prefix P"), std::string::npos) << prefix.err();
    auto& both = run({"dlq", "requeue", "jobs", "3", "--all"});
    EXPECT_EQ(status(both), 2);
    EXPECT_NE(both.err().find("give SEQ or --all, not both"), std::string::npos) << both.err();
    auto& rq = run({"dlq", "requeu", "jobs"});
    EXPECT_EQ(status(rq), 2);
    EXPECT_NE(rq.err().find("did you mean 'requeue'?"), std::string::npos) << rq.err();
}

TEST_F(stream_admin_cli, a_node_without_stream_admin_refuses_writes_and_answers_reads) {
    spawn_holder("pub", {});
    auto& add = run({"stream", "add", "x", "--prefix", "x.", "--node", "pub"});
    EXPECT_EQ(status(add), 1);
    EXPECT_NE(add.err().find("pub (code -32012): node 'pub' does not allow stream administration"), std::string::npos)
        << add.err();
    auto& pub = run({"pub", "--stream", "jobs.run", "1"});
    EXPECT_EQ(status(pub), 1);
    EXPECT_NE(pub.err().find("code -32012"), std::string::npos) << pub.err();
    auto& ls = run({"stream", "ls"});
    EXPECT_EQ(status(ls), 0) << ls.err();
    EXPECT_NE(ls.out().find("jobs"), std::string::npos) << ls.out();
}

TEST_F(stream_admin_cli, poison_messages_are_listed_in_the_dead_letters_and_requeued_into_their_stream) {
    auto& pub = spawn_holder("pub", {"--stream-admin", "--publish", "jobs.run", "--rate", "100", "--count", "6"});
    // Every third message is naked until its 2 deliveries are spent: seq 3 and 6 die.
    auto& c = spawn_consumer({"--from", "first", "--nak-every", "3", "--max-deliveries", "2"});
    nlohmann::json dead;
    ASSERT_TRUE(wait_until([&] {
        auto& ls = run({"dlq", "ls", "jobs", "--json"});
        if (status(ls) != 0) return false;
        dead = nlohmann::json::parse(ls.out(), nullptr, false);
        return !dead.is_discarded() && dead["nodes"][0]["dead_letters"].size() == 2;
    }, 60s)) << dead.dump() << c.err();
    c.signal(SIGINT);
    EXPECT_EQ(c.wait(10s), std::optional<int>(130));
    const auto& letters = dead["nodes"][0]["dead_letters"];
    EXPECT_EQ(dead["nodes"][0]["node"], "pub");
    EXPECT_EQ(letters[0]["original_seq"], 3);
    EXPECT_EQ(letters[1]["original_seq"], 6);
    EXPECT_EQ(letters[0]["attempts"], 2);
    EXPECT_EQ(letters[0]["error"], "nak-every 3");
    EXPECT_EQ(letters[0]["payload"], nlohmann::json({{"n", 3}, {"from", "pub"}}));
    auto& text = run({"dlq", "ls", "jobs"});
    ASSERT_EQ(status(text), 0) << text.err();
    EXPECT_NE(text.out().find("jobs on pub: 2 dead letter(s)"), std::string::npos) << text.out();
    EXPECT_NE(text.out().find("(was 6) 2 attempt(s)"), std::string::npos) << text.out();

    // The monitor shows the stream with its publisher and consumer, its dead letters folded in.
    const auto doc = monitor_once(5.0);
    ASSERT_TRUE(doc.is_object()) << doc.dump();
    ASSERT_EQ(doc["streams"].size(), 1u) << doc.dump();
    EXPECT_EQ(doc["streams"][0]["publisher"], "pub");
    EXPECT_EQ(doc["streams"][0]["name"], "jobs");
    EXPECT_EQ(doc["streams"][0]["last_seq"], 6);
    EXPECT_EQ(doc["streams"][0]["dead_letters"], 2);
    EXPECT_EQ(doc["streams"][0]["consumers"][0]["name"], "workers");

    auto& one = run({"dlq", "requeue", "jobs", "1", "--node", "pub"});
    ASSERT_EQ(status(one), 0) << one.err();
    EXPECT_NE(one.out().find("requeued 1 dead letter(s) of jobs on pub; 1 left"), std::string::npos) << one.out();
    auto& missing = run({"dlq", "requeue", "jobs", "1"});
    EXPECT_EQ(status(missing), 1);
    EXPECT_NE(missing.err().find("code -32016"), std::string::npos) << missing.err();
    auto& rest = run({"dlq", "requeue", "jobs", "--all"});
    ASSERT_EQ(status(rest), 0) << rest.err();
    EXPECT_NE(rest.out().find("requeued 1 dead letter(s) of jobs on pub; 0 left"), std::string::npos) << rest.out();

    const auto jobs = info("jobs");
    ASSERT_FALSE(jobs.is_null());
    EXPECT_EQ(jobs["nodes"][0]["last_seq"], 8);   // both back, as new messages
    // A new consumer name reads them as any message: the payloads came back as they were.
    auto& audit = spawn_consumer({"--from", "7", "--count", "2", "--timeout", "30s"}, "jobs", "audit");
    ASSERT_EQ(audit.wait(40s), std::optional<int>(0)) << audit.err();
    const auto got = handed_by(audit);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].payload["n"], 3);
    EXPECT_EQ(got[1].payload["n"], 6);
    pub.signal(SIGTERM);
    EXPECT_EQ(pub.wait(10s), std::optional<int>(0));
}

}  // namespace
}  // namespace zmesh::test
