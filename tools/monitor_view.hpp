// SPDX-License-Identifier: MPL-2.0
// monitor_view: what zmesh-monitor shows — per-peer rates from the counters members report
// (STATS), the most recent topics, and the table drawn to fit a terminal.
#pragma once

#include "stream_poll.hpp"

#include <zmesh/node.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zmesh::monitor {

using clock_type = std::chrono::steady_clock;
// A peer's counters as it reported them (STATS): (name, value) pairs.
using counter_list = decltype(peer_info::reported);

// Per second, between the last two reports a peer sent. Negative: not known yet.
struct peer_rates {
    double events_in = -1, events_out = -1, rpc_calls = -1, rpc_errors = -1;
};

// Returns: the names more than one member (not an observer) holds, sorted. Two live members
// with one name are shown, never merged: calls by that name are refused as ambiguous.
std::vector<std::string> shared_names(const std::vector<peer_info>& peers);

// Turns successive snapshots of reported counters into rates.
class rate_tracker {
public:
    // Returns: `p`'s rates; `now` is when `p` was read.
    peer_rates update(const peer_info& p, clock_type::time_point now);

private:
    struct sample {
        counter_list counters;
        clock_type::time_point at;
        peer_rates rates;
    };
    std::unordered_map<node_id, sample> last_;
};

// The topics seen most recently, with counts; bounded. Written by the delivery thread, read
// by the drawing one.
class topic_log {
public:
    static constexpr std::size_t max_topics = 256;
    void add(const std::string& topic, clock_type::time_point now);
    struct entry {
        std::string topic;
        std::uint64_t count = 0;
        clock_type::time_point last;
    };
    // Returns: up to `n` topics, the most recent first.
    std::vector<entry> recent(std::size_t n) const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, entry> topics_;
};

// Returns: a counter `p` reported about itself, or -1 before its first report.
long long reported(const peer_info& p, std::string_view name);
// Returns: the sum of counters `names`, or -1 when one of them is not in `counters`.
long long sum_of(const counter_list& counters, std::span<const std::string_view> names);

// What the RPC/s column adds up: the calls a peer made and the requests it served.
inline constexpr std::string_view rpc_call_counters[] = {"rpc_calls", "rpc_served"};
// What the ERR/s column adds up: a peer's calls that failed, and the requests it could not serve.
inline constexpr std::string_view rpc_error_counters[] = {
    "rpc_remote_errors", "rpc_timeouts", "rpc_peer_lost", "rpc_no_provider",
    "rpc_unknown_method", "rpc_bad_requests", "rpc_busy", "rpc_expired"};
static_assert(std::all_of(std::begin(rpc_call_counters), std::end(rpc_call_counters), is_node_counter) &&
                  std::all_of(std::begin(rpc_error_counters), std::end(rpc_error_counters), is_node_counter),
              "the monitor adds up counters of node_stats");

// Returns: every counter `p` reported, as {"name": value}, or null before its first report.
nlohmann::json counters_json(const peer_info& p);

// Returns: the screen: a header, one row per peer, then (when `live`) recent topics, cut to
// `cols` x `rows` (0: no limit). With `ansi`, it starts with cursor-home and clears what
// follows each line, so it redraws in place without flicker. The header says "q quits" only
// when `quit_key` (a terminal to type it in). `streams`, when given, are listed after the
// peers (none: the section is left out).
std::string render(const std::string& mesh, const std::vector<peer_info>& peers,
                   const std::vector<peer_rates>& rates, const std::vector<topic_log::entry>& topics,
                   clock_type::time_point now, int cols, int rows, bool ansi, bool live = true,
                   bool quit_key = false, const std::vector<stream_row>* streams = nullptr);

// Returns: the rates as JSON (null for unknown).
nlohmann::json to_json(const peer_rates& r);

// Returns: the members `n` sees: joined or evasive, observers aside.
std::vector<peer_info> members(const node& n);
// Returns: a peer as the monitor shows it: every counter it reported ("counters") included,
// and its rates when given.
nlohmann::json peer_json(const peer_info& p, const peer_rates* rates);
// Returns: the monitor's JSON document of `mesh`: its members (with rates when given, one per
// member), the names more than one of them holds, and the streams when given.
nlohmann::json document(const std::string& mesh, const std::vector<peer_info>& peers,
                        const std::vector<peer_rates>* rates = nullptr,
                        const std::vector<stream_row>* streams = nullptr);

}  // namespace zmesh::monitor
