// SPDX-License-Identifier: MPL-2.0
// system_fixture: real zmesh-node and zmesh-monitor processes on loopback, one private beacon
// port and mesh per test, every process killed and reaped when the test ends.
#pragma once

#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

#include <zmesh/node.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace zmesh::test {

class system_fixture : public ::testing::Test {
protected:
    std::string mesh_ = unique_mesh();
    std::uint16_t beacon_port_ = free_port();

    std::vector<std::string> base_args(const std::string& name, const std::string& mesh) const {
        return {"--name", name, "--mesh", mesh, "--beacon-port", std::to_string(beacon_port_),
                "--log-level", "warn"};
    }

    // Starts zmesh-node NAME on this test's mesh (or `mesh`), with `extra` flags.
    process& spawn_node(const std::string& name, std::vector<std::string> extra = {},
                        const std::string& mesh = {}) {
        auto args = base_args(name, mesh.empty() ? mesh_ : mesh);
        args.insert(args.end(), extra.begin(), extra.end());
        procs_.push_back(std::make_unique<process>(tool("zmesh-node"), args));
        return *procs_.back();
    }

    // Returns: the counters zmesh-node `p` printed on exit (its "stats {JSON}" line), or
    // null when it printed none.
    static nlohmann::json exit_stats(const process& p) {
        for (const auto& line : p.out_lines())
            if (line.starts_with("stats ")) return nlohmann::json::parse(line.substr(6));
        return nullptr;
    }

    // Returns: true when `p` printed "joined NAME" for each of `names` within `timeout`.
    static bool sees_joined(const process& p, const std::vector<std::string>& names,
                            std::chrono::milliseconds timeout) {
        return wait_until([&] {
            for (const auto& n : names)
                if (p.count_lines("joined " + n + " ") == 0) return false;
            return true;
        }, timeout);
    }

    // Starts nodes "a" and "c" with an evasive timeout of 500 ms and `expire_ms`. Returns:
    // both once each sees the other joined; nulls when they do not within 3 s.
    std::pair<process*, process*> joined_pair(const std::string& expire_ms) {
        const std::vector<std::string> timing = {"--evasive", "500", "--expire", expire_ms};
        auto& a = spawn_node("a", timing);
        auto& c = spawn_node("c", timing);
        const auto wait = std::chrono::seconds(3);
        if (!sees_joined(a, {"c"}, wait) || !sees_joined(c, {"a"}, wait)) return {nullptr, nullptr};
        return {&a, &c};
    }

    // Runs zmesh-monitor --once --json and returns its document (null on failure).
    nlohmann::json monitor_once(double wait_s = 5.0, const std::string& mesh = {}) {
        process m(tool("zmesh-monitor"),
                  {"--mesh", mesh.empty() ? mesh_ : mesh, "--beacon-port",
                   std::to_string(beacon_port_), "--once", "--json", "--wait",
                   std::to_string(wait_s)});
        const auto status = m.wait(std::chrono::milliseconds(static_cast<long>(wait_s * 1000) + 10000));
        EXPECT_EQ(status, std::optional<int>(0)) << m.err();
        try {
            return nlohmann::json::parse(m.out());
        } catch (const std::exception& e) {
            ADD_FAILURE() << "monitor printed no JSON: " << m.out() << m.err();
            return nullptr;
        }
    }

    // Returns: a started in-process node on this test's mesh (a client of the processes).
    std::unique_ptr<node> start_client(const std::string& name = "client") const {
        options o;
        o.name = name;
        o.mesh = mesh_;
        o.beacon_port = beacon_port_;
        o.interface = "lo";
        o.bind = "127.0.0.1";
        o.log = log_level::error;
        auto n = std::make_unique<node>(o);
        n->start();
        return n;
    }

    std::vector<std::unique_ptr<process>> procs_;
};

}  // namespace zmesh::test
