// SPDX-License-Identifier: MPL-2.0
// monitor_view: rates from reported counters, the topic log and the table of zmesh-monitor.
#include "monitor_view.hpp"

#include "cli.hpp"

#include <algorithm>
#include <cstdio>

namespace zmesh::monitor {

// The columns of single counters.
static_assert(is_node_counter("events_in") && is_node_counter("events_out") && is_node_counter("events_gaps"));

namespace {

// Returns: counter `name` of `counters`, or -1 when it is not there.
long long counter_in(const counter_list& counters, std::string_view name) {
    for (const auto& [key, value] : counters)
        if (key == name) return static_cast<long long>(value);
    return -1;
}

// Returns: (now - before) / seconds, or -1 when either is unknown or a counter went back
// (the peer restarted).
double rate(long long before, long long now, double seconds) {
    if (before < 0 || now < before || seconds <= 0) return -1;
    return static_cast<double>(now - before) / seconds;
}

std::string rate_cell(double r) {
    if (r < 0) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, r >= 10000 ? "%.0fk" : "%.0f", r >= 10000 ? r / 1000 : r);
    return buf;
}

}  // namespace

long long reported(const peer_info& p, std::string_view name) { return counter_in(p.reported, name); }

long long sum_of(const counter_list& counters, std::span<const std::string_view> names) {
    long long sum = 0;
    for (const auto name : names) {
        const auto v = counter_in(counters, name);
        if (v < 0) return -1;
        sum += v;
    }
    return sum;
}

nlohmann::json counters_json(const peer_info& p) {
    if (p.reported.empty()) return nullptr;
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, value] : p.reported) j[name] = value;
    return j;
}

peer_rates rate_tracker::update(const peer_info& p, clock_type::time_point now) {
    auto it = last_.find(p.id);
    if (it == last_.end()) {
        last_[p.id] = {p.reported, now, {}};
        return {};
    }
    auto& s = it->second;
    if (p.reported == s.counters) return s.rates;   // no new report since: keep the last rates
    const double seconds = std::chrono::duration<double>(now - s.at).count();
    const auto& before = s.counters;
    const auto per_second = [&](std::span<const std::string_view> names) {
        return rate(sum_of(before, names), sum_of(p.reported, names), seconds);
    };
    s.rates.events_in = rate(counter_in(before, "events_in"), reported(p, "events_in"), seconds);
    s.rates.events_out = rate(counter_in(before, "events_out"), reported(p, "events_out"), seconds);
    s.rates.rpc_calls = per_second(rpc_call_counters);
    s.rates.rpc_errors = per_second(rpc_error_counters);
    s.counters = p.reported;
    s.at = now;
    return s.rates;
}

void topic_log::add(const std::string& topic, clock_type::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
        if (topics_.size() >= max_topics) {   // forget the stalest
            auto oldest = std::min_element(topics_.begin(), topics_.end(), [](const auto& a, const auto& b) {
                return a.second.last < b.second.last;
            });
            topics_.erase(oldest);
        }
        it = topics_.emplace(topic, entry{topic, 0, now}).first;
    }
    ++it->second.count;
    it->second.last = now;
}

std::vector<topic_log::entry> topic_log::recent(std::size_t n) const {
    std::lock_guard lock(mutex_);
    std::vector<entry> all;
    for (const auto& [t, e] : topics_) all.push_back(e);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.last > b.last; });
    if (all.size() > n) all.resize(n);
    return all;
}

std::vector<std::string> shared_names(const std::vector<peer_info>& peers) {
    std::map<std::string, int> holders;
    for (const auto& p : peers)
        if (!p.observer) ++holders[p.name];
    std::vector<std::string> shared;
    for (const auto& [name, count] : holders)
        if (count > 1) shared.push_back(name);
    return shared;
}

std::string render(const std::string& mesh, const std::vector<peer_info>& peers,
                   const std::vector<peer_rates>& rates, const std::vector<topic_log::entry>& topics,
                   clock_type::time_point now, int cols, int rows, bool ansi, bool live, bool quit_key,
                   const std::vector<stream_row>* streams) {
    std::vector<std::string> lines;
    char buf[1024];
    std::snprintf(buf, sizeof buf, "zmesh-monitor  mesh %s  %zu peer(s)%s", mesh.c_str(), peers.size(),
                  quit_key ? "   (q quits)" : "");
    lines.emplace_back(buf);
    for (const auto& name : shared_names(peers))
        lines.emplace_back("WARNING: several members are named '" + name + "' (calls by that name are refused)");
    lines.emplace_back();
    std::snprintf(buf, sizeof buf, "%-16s %-9s %-8s %7s %8s %8s %6s %7s %6s  %s", "NAME", "ID", "STATE",
                  "RTT(us)", "EV_IN/s", "EV_OUT/s", "GAPS", "RPC/s", "ERR/s", "SERVES | SUBSCRIBED");
    lines.emplace_back(buf);
    for (std::size_t i = 0; i < peers.size(); ++i) {
        const auto& p = peers[i];
        const auto r = i < rates.size() ? rates[i] : peer_rates{};
        std::string offers;
        for (const auto& s : p.services) offers += (offers.empty() ? "" : ",") + s;
        if (!p.subscriptions.empty()) offers += " |";
        for (const auto& s : p.subscriptions) offers += " " + (s.empty() ? std::string("*") : s);
        const auto gaps = reported(p, "events_gaps");
        std::snprintf(buf, sizeof buf, "%-16.16s %-9s %-8s %7s %8s %8s %6s %7s %6s  %s", p.name.c_str(),
                      p.id.short_hex().c_str(), std::string(to_string(p.state)).c_str(),
                      p.rtt_us < 0 ? "-" : std::to_string(p.rtt_us).c_str(), rate_cell(r.events_in).c_str(),
                      rate_cell(r.events_out).c_str(), gaps < 0 ? "-" : std::to_string(gaps).c_str(),
                      rate_cell(r.rpc_calls).c_str(), rate_cell(r.rpc_errors).c_str(), offers.c_str());
        lines.emplace_back(buf);
    }
    if (streams && !streams->empty()) {
        lines.emplace_back();
        for (auto& l : stream_lines(*streams)) lines.push_back(std::move(l));
    }
    // Only the live view listens to events.
    if (live) {
        lines.emplace_back();
        lines.emplace_back(topics.empty() ? "RECENT TOPICS  (none yet)" : "RECENT TOPICS");
    }
    for (const auto& t : topics) {
        const auto age = std::chrono::duration<double>(now - t.last).count();
        std::snprintf(buf, sizeof buf, "  %-40.40s %10llu events, last %.1f s ago", t.topic.c_str(),
                      static_cast<unsigned long long>(t.count), age);
        lines.emplace_back(buf);
    }
    if (rows > 0 && static_cast<int>(lines.size()) > rows) lines.resize(static_cast<std::size_t>(rows));
    std::string out = ansi ? "\x1b[H" : "";
    for (auto& l : lines) {
        if (cols > 0 && static_cast<int>(l.size()) > cols) l.resize(static_cast<std::size_t>(cols));
        out += l;
        out += ansi ? "\x1b[K\n" : "\n";   // clear the rest of a longer old line
    }
    if (ansi) out += "\x1b[J";   // and every old line below
    return out;
}

nlohmann::json to_json(const peer_rates& r) {
    const auto v = [](double x) { return x < 0 ? nlohmann::json(nullptr) : nlohmann::json(x); };
    return {{"events_in_per_s", v(r.events_in)}, {"events_out_per_s", v(r.events_out)},
            {"rpc_calls_per_s", v(r.rpc_calls)}, {"rpc_errors_per_s", v(r.rpc_errors)}};
}

std::vector<peer_info> members(const node& n) {
    auto all = n.peers();
    std::erase_if(all, [](const peer_info& p) { return p.observer || p.state == peer_state::connecting; });
    return all;
}

nlohmann::json peer_json(const peer_info& p, const peer_rates* rates) {
    auto j = cli::to_json(p);
    j["counters"] = counters_json(p);
    if (rates) j["rates"] = to_json(*rates);
    return j;
}

nlohmann::json document(const std::string& mesh, const std::vector<peer_info>& peers,
                        const std::vector<peer_rates>* rates, const std::vector<stream_row>* streams) {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < peers.size(); ++i) list.push_back(peer_json(peers[i], rates ? &(*rates)[i] : nullptr));
    nlohmann::json doc = {{"mesh", mesh}, {"peers", list}, {"shared_names", shared_names(peers)}};
    if (streams) doc["streams"] = to_json(*streams);
    return doc;
}

}  // namespace zmesh::monitor
