// SPDX-License-Identifier: MPL-2.0
// zmesh-monitor --http against a running mesh: /metrics scraped during traffic (Prometheus
// text, counters growing, consistent with what the node says of itself, and promtool's check
// where it is installed), and the live page in a real headless browser (Debian's chromium):
// the members drawn by name, a counter that changes between two loads, and a screenshot kept
// under the build's test-artifacts/.
#include "system_fixture.hpp"

#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

class web_view_system : public system_fixture {
protected:
    // Starts the monitor with --http on a free port. Returns: the port, 0 when it did not say.
    int start_monitor() {
        monitor_ = std::make_unique<process>(
            tool("zmesh-monitor"), std::vector<std::string>{"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_),
                                                            "--watch", "--json", "--http", "127.0.0.1:0"});
        int port = 0;
        wait_until([&] {
            std::smatch m;
            const auto err = monitor_->err();
            if (std::regex_search(err, m, std::regex("serving http://127\\.0\\.0\\.1:([0-9]+)/"))) port = std::stoi(m[1]);
            return port != 0;
        }, 10s);
        return port;
    }
    static std::string get(int port, const std::string& path) {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(5, 0);
        const auto r = c.Get(path);
        return r && r->status == 200 ? r->body : std::string();
    }
    // Returns: the value of `family` whose label `label` (node for counters, peer for the
    // figures of peers) is `name`, in exposition `text`, or -1.
    static double sample(const std::string& text, const std::string& family, const std::string& name,
                         const std::string& label = "node") {
        std::smatch m;
        const std::regex line("(^|\\n)" + family + "\\{[^}]*" + label + "=\"" + name + "\"[^}]*\\} ([0-9.eE+-]+)");
        return std::regex_search(text, m, line) ? std::stod(m[2]) : -1;
    }

    std::unique_ptr<process> monitor_;
};

TEST_F(web_view_system, metrics_grow_during_traffic_and_agree_with_the_node) {
    auto& pub = spawn_node("pub", {"--publish", "orders.created", "--rate", "50", "--serve", "echo"});
    spawn_node("sub", {"--subscribe", "orders."});
    const int port = start_monitor();
    ASSERT_GT(port, 0) << monitor_->err();

    std::string first, later;
    ASSERT_TRUE(wait_until([&] {
        first = get(port, "/metrics");
        return sample(first, "zmesh_events_out_total", "pub") > 0;
    }, 15s)) << first;
    ASSERT_TRUE(wait_until([&] {
        later = get(port, "/metrics");
        return sample(later, "zmesh_events_out_total", "pub") > sample(first, "zmesh_events_out_total", "pub");
    }, 15s)) << later;
    EXPECT_EQ(sample(later, "zmesh_peer_joined", "pub", "peer"), 1);
    EXPECT_EQ(sample(later, "zmesh_peer_joined", "sub", "peer"), 1);
    EXPECT_EQ(sample(later, "zmesh_peer_joined", "pub"), -1);   // a peer's figure, not its own
    EXPECT_NE(later.find(",method=\"echo\"} 1"), std::string::npos);
    EXPECT_NE(later.find(",prefix=\"orders.\"} 1"), std::string::npos);
    EXPECT_NE(later.find("# TYPE zmesh_events_out_total counter"), std::string::npos);

    if (std::system("command -v promtool > /dev/null 2>&1") == 0) {
        const auto file = std::filesystem::temp_directory_path() / ("zmesh-metrics-" + mesh_ + ".txt");
        std::ofstream(file) << later;
        EXPECT_EQ(std::system(("promtool check metrics < " + file.string() + " > /dev/null 2>&1").c_str()), 0)
            << "promtool refused:\n" << later;
        std::filesystem::remove(file);
    } else {
        std::printf("promtool is not installed (./run installs the prometheus package): the exposition was not checked by it\n");
    }

    // What the monitor said the publisher had published is at most what it says at exit.
    const auto scraped = sample(later, "zmesh_events_out_total", "pub");
    pub.signal(SIGTERM);
    ASSERT_EQ(pub.wait(5s), std::optional<int>(0));
    const auto stats = exit_stats(pub);
    ASSERT_FALSE(stats.is_null()) << pub.out();
    EXPECT_GE(stats["events_out"].get<double>(), scraped);

    monitor_->signal(SIGTERM);
    EXPECT_EQ(monitor_->wait(5s), std::optional<int>(0)) << monitor_->err();
}

TEST_F(web_view_system, a_node_started_with_metrics_serves_its_counters_and_its_peers_figures) {
    auto& a = spawn_node("metered", {"--metrics", "127.0.0.1:0", "--serve", "echo"});
    spawn_node("other", {"--subscribe", "orders."});
    int port = 0;
    ASSERT_TRUE(wait_until([&] {
        std::smatch m;
        const auto out = a.out();
        if (std::regex_search(out, m, std::regex("^started .* metrics=http://127\\.0\\.0\\.1:([0-9]+)/metrics$",
                                                 std::regex::multiline)))
            port = std::stoi(m[1]);
        return port != 0;
    }, 10s)) << a.out() << a.err();
    std::string text;
    ASSERT_TRUE(wait_until([&] {
        text = get(port, "/metrics");
        return sample(text, "zmesh_peer_joined", "other", "peer") == 1;
    }, 15s)) << text;
    EXPECT_GT(sample(text, "zmesh_beacons_sent_total", "metered"), 0);   // its own counters
    EXPECT_NE(text.find(",prefix=\"orders.\"} 1"), std::string::npos);   // what its peer subscribes

    process refused(tool("zmesh-node"), [&] {
        auto args = base_args("refused", mesh_);
        args.insert(args.end(), {"--metrics", "no-port"});
        return args;
    }());
    EXPECT_EQ(refused.wait(10s), std::optional<int>(1));
    EXPECT_NE(refused.err().find("metrics_endpoint 'no-port' is not HOST:PORT"), std::string::npos) << refused.err();
}

TEST_F(web_view_system, the_page_draws_the_members_in_a_browser_and_their_counters_change) {
    if (std::system("command -v chromium > /dev/null 2>&1") != 0)
        GTEST_SKIP() << "chromium is not installed (./run installs it): the page is not checked in a browser";
    spawn_node("orders", {"--publish", "orders.created", "--rate", "50"});
    spawn_node("stock", {"--subscribe", "orders.", "--serve", "echo"});
    spawn_node("billing", {"--subscribe", "orders.created"});
    const int port = start_monitor();
    ASSERT_GT(port, 0) << monitor_->err();
    ASSERT_TRUE(wait_until([&] {
        const auto doc = nlohmann::json::parse(get(port, "/mesh.json"), nullptr, false);
        if (doc.is_discarded() || doc["peers"].size() != 3 || doc["published"].size() != 1) return false;
        // The page shows the selected member's counters as the monitor last polled them:
        // rendered before the first poll, it would show none.
        for (const auto& p : doc["peers"])
            if (p["name"] == "orders") return p.contains("counters") && !p["counters"].empty();
        return false;
    }, 15s)) << get(port, "/mesh.json");

    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/?select=orders";
    const std::vector<std::string> headless = {"--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000",
                                               "--window-size=1200,800"};
    const auto render = [&](std::vector<std::string> what) {
        auto args = headless;
        args.insert(args.end(), what.begin(), what.end());
        args.push_back(url);
        process browser("/usr/bin/chromium", args);
        EXPECT_TRUE(browser.wait(60s).has_value()) << "chromium did not finish";
        return browser.out();
    };
    const auto counter = [](const std::string& dom) {
        std::smatch m;
        return std::regex_search(dom, m, std::regex("data-counter=\"events_out\">([0-9]+)<")) ? std::stoll(m[1]) : -1LL;
    };
    const auto first = render({"--dump-dom"});
    for (const auto* name : {"orders", "stock", "billing"})
        EXPECT_NE(first.find(std::string("data-name=\"") + name + "\""), std::string::npos) << name << " not drawn:\n" << first;
    EXPECT_NE(first.find("serves echo"), std::string::npos);
    EXPECT_NE(first.find("class=\"flow\""), std::string::npos) << "no event flow drawn";
    const auto before = counter(first);
    ASSERT_GE(before, 0) << "the selected member's counters are not shown:\n" << first;
    std::string second;
    EXPECT_TRUE(wait_until([&] {
        second = render({"--dump-dom"});
        return counter(second) > before;
    }, 20s)) << "events_out stayed at " << before;

    const auto artifacts = std::filesystem::path(ZMESH_BINARY_DIR) / "test-artifacts";
    std::filesystem::create_directories(artifacts);
    render({"--screenshot=" + (artifacts / "mesh.png").string()});
    EXPECT_GT(std::filesystem::file_size(artifacts / "mesh.png"), 10'000u);
    monitor_->signal(SIGTERM);
    EXPECT_EQ(monitor_->wait(5s), std::optional<int>(0)) << monitor_->err();
}

}  // namespace
}  // namespace zmesh::test
