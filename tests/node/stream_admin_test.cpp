// SPDX-License-Identifier: MPL-2.0
// Streams administered over the mesh, nodes in one process: a member lists, adds, removes
// and publishes into another node's streams through the reserved methods (PROTOCOL.md §15),
// is refused writes unless the node allows them, lists and requeues dead letters, and gets
// an error code, counted, for every bad or out-of-bounds request.
#include "node_fixture.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

class stream_admin_fixture : public node_fixture {
protected:
    stream_admin_fixture() { std::filesystem::create_directories(dir_); }
    ~stream_admin_fixture() override {
        for (auto& n : nodes_) n->stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    options publisher_options(const std::string& name, bool admin) const {
        auto o = make_options(name);
        o.data_dir = (dir_ / name).string();
        o.stream_admin = admin;
        return o;
    }
    // Starts the publisher and a member "ops" that administers it, joined both ways.
    std::pair<node*, node*> start_pair(bool admin) {
        auto& pub = start(publisher_options("pub", admin));
        auto& ops = start("ops");
        EXPECT_TRUE(wait_until([&] { return joined_names(pub).size() == 1 && joined_names(ops).size() == 1; }, 10s));
        return {&pub, &ops};
    }
    static json ask(node& from, const node& to, std::string_view method, const json& args) {
        const auto r = from.call_packed(to.id(), method, json::to_msgpack(args), 5s).get();
        return json::from_msgpack(r.bytes().begin(), r.bytes().end());
    }
    // Returns: the error code the request is answered with (0: none).
    static std::int64_t code_of(node& from, const node& to, std::string_view method, const json& args) {
        try {
            (void)ask(from, to, method, args);
        } catch (const rpc_error& e) {
            return e.kind() == rpc_errc::remote ? e.code() : -1;
        }
        return 0;
    }

    std::filesystem::path dir_ = std::filesystem::temp_directory_path() / ("zmesh-admin-" + unique_mesh());
};

TEST_F(stream_admin_fixture, a_member_adds_lists_publishes_into_and_removes_another_nodes_streams) {
    auto [pub, ops] = start_pair(true);
    const auto added = ask(*ops, *pub, "zmesh.stream.add",
                           {{"name", "orders"}, {"prefix", "orders."}, {"max_messages", 100}, {"max_age_ms", 60000}});
    EXPECT_EQ(added["name"], "orders");
    EXPECT_EQ(added["max_messages"], 100);
    ASSERT_EQ(pub->streams().size(), 1u);
    EXPECT_EQ(pub->streams()[0].config.limits.max_age, 60000ms);

    EXPECT_EQ(ask(*ops, *pub, "zmesh.stream.publish", {{"topic", "orders.placed"}, {"payload", {{"id", 7}}}})["stored"], 1);
    pub->publish_stored("orders.placed", 8).get();
    const auto list = ask(*ops, *pub, "zmesh.streams", nullptr);
    ASSERT_EQ(list["streams"].size(), 1u);
    const auto& s = list["streams"][0];
    EXPECT_EQ(s["name"], "orders");
    EXPECT_EQ(s["prefix"], "orders.");
    EXPECT_EQ(s["first_seq"], 1);
    EXPECT_EQ(s["last_seq"], 2);
    EXPECT_EQ(s["messages"], 2);
    EXPECT_TRUE(list["more"].is_null());
    EXPECT_EQ(ask(*ops, *pub, "zmesh.streams", {{"stream", "orders"}})["streams"][0]["last_seq"], 2);

    // The reserved methods are the node's own: never advertised.
    for (const auto& p : ops->peers()) EXPECT_TRUE(p.services.empty()) << p.name;

    EXPECT_EQ(ask(*ops, *pub, "zmesh.stream.rm", {{"name", "orders"}})["removed"], 1);
    EXPECT_TRUE(pub->streams().empty());
    EXPECT_EQ(code_of(*ops, *pub, "zmesh.stream.rm", {{"name", "orders"}}), -32011);
    EXPECT_EQ(code_of(*ops, *pub, "zmesh.streams", {{"stream", "orders"}}), -32011);
    EXPECT_EQ(pub->stats().stream_admin_refused, 2u);
}

TEST_F(stream_admin_fixture, writes_are_refused_unless_the_node_allows_them_and_reads_are_answered) {
    auto [pub, ops] = start_pair(false);
    pub->declare_stream({"orders", "orders."});
    EXPECT_EQ(code_of(*ops, *pub, "zmesh.stream.add", {{"name", "x"}, {"prefix", "x."}}), -32012);
    EXPECT_EQ(code_of(*ops, *pub, "zmesh.stream.rm", {{"name", "orders"}}), -32012);
    EXPECT_EQ(code_of(*ops, *pub, "zmesh.stream.publish", {{"topic", "orders.a"}, {"payload", 1}}), -32012);
    EXPECT_EQ(code_of(*ops, *pub, "zmesh.dlq.requeue", {{"stream", "orders"}, {"all", true}}), -32012);
    ASSERT_EQ(pub->streams().size(), 1u);
    EXPECT_EQ(pub->streams()[0].last_seq, 0u);
    EXPECT_EQ(ask(*ops, *pub, "zmesh.streams", nullptr)["streams"].size(), 1u);
    EXPECT_EQ(ask(*ops, *pub, "zmesh.dlq.ls", {{"stream", "orders"}})["dead_letters"].size(), 0u);
    EXPECT_EQ(pub->stats().stream_admin_refused, 4u);
    // A node without a data directory holds no streams, and says so.
    EXPECT_EQ(code_of(*pub, *ops, "zmesh.streams", nullptr), -32010);
}

TEST_F(stream_admin_fixture, a_poison_message_is_listed_in_the_dead_letters_and_requeued_into_its_stream) {
    auto [pub, ops] = start_pair(true);
    pub->declare_stream({"jobs", "jobs."});
    std::atomic<bool> cured{false};
    std::mutex mutex;
    std::multiset<int> handled;   // values acked
    consume_options o;
    o.max_deliveries = 2;
    o.start = stream_start::first;
    ops->consume("jobs", "workers", [&](const stream_message& m) {
        if (m.as<int>() == 13 && !cured) return m.nak(0ms, "thirteen is unlucky");
        std::lock_guard lock(mutex);
        handled.insert(m.as<int>());
        m.ack();
    }, o);
    for (int i = 10; i < 16; ++i) pub->publish_stored("jobs.run", i).get();
    ASSERT_TRUE(wait_until([&] {
        const auto l = ask(*ops, *pub, "zmesh.dlq.ls", {{"stream", "jobs"}});
        return l["messages"] == 1;
    }, 10s));
    const auto page = ask(*ops, *pub, "zmesh.dlq.ls", {{"stream", "jobs"}, {"max", 10}});
    ASSERT_EQ(page["dead_letters"].size(), 1u);
    const auto& d = page["dead_letters"][0];
    EXPECT_EQ(d["seq"], 1);
    EXPECT_EQ(d["original_seq"], 4);
    EXPECT_EQ(d["attempts"], 2);
    EXPECT_EQ(d["error"], "thirteen is unlucky");
    EXPECT_EQ(d["payload"], 13);
    EXPECT_TRUE(page["more"].is_null());
    const auto consumers = ask(*ops, *pub, "zmesh.streams", {{"stream", "jobs"}})["streams"][0]["consumers"];
    ASSERT_EQ(consumers.size(), 1u);
    EXPECT_EQ(consumers[0]["name"], "workers");
    EXPECT_EQ(consumers[0]["members"], 1);
    EXPECT_EQ(consumers[0]["dead_letters"], 1);

    EXPECT_EQ(code_of(*ops, *pub, "zmesh.dlq.requeue", {{"stream", "jobs"}, {"seq", 9}}), -32016);
    cured = true;
    const auto r = ask(*ops, *pub, "zmesh.dlq.requeue", {{"stream", "jobs"}, {"seq", 1}});
    EXPECT_EQ(r["requeued"], 1);
    EXPECT_EQ(r["left"], 0);
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(mutex);
        return handled.count(13) == 1;
    }, 10s));
    EXPECT_EQ(ask(*ops, *pub, "zmesh.dlq.ls", {{"stream", "jobs"}})["dead_letters"].size(), 0u);
    EXPECT_EQ(pub->streams()[0].last_seq, 7u);   // back as a new message
}

TEST_F(stream_admin_fixture, bad_arguments_and_bounds_are_answered_with_codes_and_counted) {
    auto o = publisher_options("pub", true);
    o.max_event_size = 1024;
    auto& pub = start(o);
    auto& ops = start("ops");
    ASSERT_TRUE(wait_until([&] { return joined_names(pub).size() == 1 && joined_names(ops).size() == 1; }, 10s));
    const std::pair<std::string_view, json> bad[] = {
        {"zmesh.streams", 5},
        {"zmesh.streams", {{"stream", ""}}},
        {"zmesh.stream.add", {{"name", std::string(256, 'n')}, {"prefix", "p."}}},
        {"zmesh.stream.add", {{"name", "orders"}}},
        {"zmesh.stream.add", {{"name", "orders.dlq"}, {"prefix", "p."}}},
        {"zmesh.stream.add", {{"name", "orders"}, {"prefix", "p."}, {"max_messages", -1}}},
        {"zmesh.stream.add", {{"name", "orders"}, {"prefix", std::string("a\0b", 3)}}},
        {"zmesh.stream.publish", {{"topic", "p.x"}}},
        {"zmesh.stream.publish", {{"topic", "p.x"}, {"payload", std::string(2000, 'x')}}},
        {"zmesh.dlq.ls", {{"stream", "orders"}, {"max", 0}}},
        {"zmesh.dlq.ls", {{"stream", "orders"}, {"max", 1001}}},
        {"zmesh.dlq.requeue", {{"stream", "orders"}, {"seq", 1}, {"all", true}}},
        {"zmesh.dlq.requeue", {{"stream", "orders"}, {"all", 1}}},
    };
    for (const auto& [method, args] : bad) EXPECT_EQ(code_of(ops, pub, method, args), -32602) << method << " " << args;
    EXPECT_EQ(pub.stats().stream_admin_refused, std::size(bad));
    EXPECT_TRUE(pub.streams().empty());
    EXPECT_EQ(code_of(ops, pub, "zmesh.stream.publish", {{"topic", "p.x"}, {"payload", 1}}), -32014);

    // A node holds at most 1024 streams from the mesh.
    std::vector<std::future<reply>> adds;
    for (int i = 0; i < 1024; ++i) {
        const json args = {{"name", "s" + std::to_string(i)}, {"prefix", "s" + std::to_string(i) + "."}};
        adds.push_back(ops.call_packed(pub.id(), "zmesh.stream.add", json::to_msgpack(args), 30s));
    }
    for (auto& f : adds) f.get();
    EXPECT_EQ(code_of(ops, pub, "zmesh.stream.add", {{"name", "one-more"}, {"prefix", "x."}}), -32013);
    EXPECT_EQ(code_of(ops, pub, "zmesh.stream.add", {{"name", "s7"}, {"prefix", "t."}}), 0);   // a change is no new one
    const auto list = ask(ops, pub, "zmesh.streams", nullptr);
    EXPECT_EQ(list["streams"].size(), 1024u);
    EXPECT_TRUE(list["more"].is_null());
}

TEST_F(stream_admin_fixture, a_listing_past_the_reply_bound_comes_in_pages_that_cover_every_stream_once) {
    auto [pub, ops] = start_pair(true);
    // Long names and prefixes: 600 streams take more than one reply's 256 KiB.
    std::vector<std::future<reply>> adds;
    for (int i = 0; i < 600; ++i) {
        auto name = std::to_string(1000 + i) + std::string(250, 'n');
        const json args = {{"name", name}, {"prefix", std::string(250, 'p') + std::to_string(i)}};
        adds.push_back(ops->call_packed(pub->id(), "zmesh.stream.add", json::to_msgpack(args), 30s));
    }
    for (auto& f : adds) f.get();
    std::set<std::string> seen;
    json args = nullptr;
    int pages = 0;
    for (; pages < 10; ++pages) {
        const auto page = ask(*ops, *pub, "zmesh.streams", args);
        EXPECT_LE(json::to_msgpack(page).size(), 256u * 1024 + 1024);
        for (const auto& s : page["streams"]) EXPECT_TRUE(seen.insert(s["name"]).second) << s["name"];
        if (page["more"].is_null()) break;
        args = {{"after", page["more"]}};
    }
    EXPECT_GE(pages, 1);   // more than one page
    EXPECT_EQ(seen.size(), 600u);
}

}  // namespace
}  // namespace zmesh::test
