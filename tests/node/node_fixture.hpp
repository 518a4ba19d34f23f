// SPDX-License-Identifier: MPL-2.0
// node_fixture: in-process nodes on loopback with a private beacon port and mesh per test.
#pragma once

#include "support/ports.hpp"
#include "support/wait.hpp"

#include <zmesh/node.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zmesh::test {

// Collects a node's peer events from its delivery thread, for the test thread to read.
class event_log {
public:
    void operator()(const peer_event& e) {
        std::lock_guard lock(mutex_);
        events_.push_back(e);
    }
    std::size_t count(peer_event_kind kind, const std::string& name,
                      leave_reason reason = leave_reason::none) const {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [&](const auto& e) {
            return e.kind == kind && e.peer.name == name &&
                   (reason == leave_reason::none || e.reason == reason);
        }));
    }
    std::vector<peer_event> all() const {
        std::lock_guard lock(mutex_);
        return events_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<peer_event> events_;
};

// Collects a node's log lines (options::log_to), from whichever thread logs them.
class log_capture {
public:
    // Returns: a sink for options::log_to; it must not outlive this capture.
    log_sink sink() {
        return [this](log_level level, std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(level, std::string(line));
        };
    }
    // Returns: the lines at `level` that contain `text`.
    std::vector<std::string> find(log_level level, std::string_view text) const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& [l, line] : lines_)
            if (l == level && line.find(text) != std::string::npos) out.push_back(line);
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::pair<log_level, std::string>> lines_;
};

// Returns: the names of the members `n` sees as joined (observers excluded), sorted.
inline std::vector<std::string> joined_names(const node& n) {
    std::vector<std::string> names;
    for (const auto& p : n.peers())
        if (p.state == peer_state::joined && !p.observer) names.push_back(p.name);
    std::sort(names.begin(), names.end());
    return names;
}

class node_fixture : public ::testing::Test {
protected:
    std::string mesh_ = unique_mesh();
    std::uint16_t beacon_port_ = free_port();

    options make_options(const std::string& name) const {
        options o;
        o.name = name;
        o.mesh = mesh_;
        o.beacon_port = beacon_port_;
        o.interface = "lo";   // never beacon off this host from a test
        o.bind = "127.0.0.1";
        o.log = log_level::error;
        return o;
    }
    // make_options for a node that logs at warn and up into `captured`.
    options logged_options(const std::string& name, log_capture& captured) const {
        auto o = make_options(name);
        o.log = log_level::warn;
        o.log_to = captured.sink();
        return o;
    }
    // make_options for a node whose peers are fakes (fake_peer.hpp), which never answer
    // PINGs: they stay joined all the same for the length of a test.
    options options_with_fakes(const std::string& name) const {
        auto o = make_options(name);
        o.liveness.heartbeat = 2s;
        o.liveness.evasive = 20s;
        o.liveness.expired = 60s;
        return o;
    }

    // Starts a node named `name`, recording its peer events in events(name).
    node& start(const std::string& name) { return start(make_options(name)); }
    node& start(options o) {
        auto log = std::make_shared<event_log>();
        logs_.push_back(log);
        nodes_.push_back(std::make_unique<node>(o));
        nodes_.back()->on_peer_event([log](const peer_event& e) { (*log)(e); });
        nodes_.back()->start();
        return *nodes_.back();
    }
    const event_log& events(const node& n) const {
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i].get() == &n) return *logs_[i];
        throw std::logic_error("not a fixture node");
    }

    std::vector<std::unique_ptr<node>> nodes_;
    std::vector<std::shared_ptr<event_log>> logs_;
};

}  // namespace zmesh::test
