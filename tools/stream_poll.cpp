// SPDX-License-Identifier: MPL-2.0
// stream_poll: members asked for their streams now and then, their answers folded into rows.
#include "stream_poll.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>

namespace zmesh::monitor {

void stream_poll::poll(node& n, const std::vector<peer_info>& members, clock::time_point now) {
    std::set<node_id> present;
    for (const auto& p : members) {
        present.insert(p.id);
        auto& m = members_[p.id];
        m.name = p.name;
        if (m.asking && m.asking->wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
            auto a = cli::answer_of(*m.asking);
            m.asking.reset();
            take(p.id, p.name, a);
        }
        if (!m.asking && (m.asked == clock::time_point{} || now - m.asked >= every_)) {
            // The first page only: what one reply holds (256 KiB) is more than a screen shows.
            m.asking = cli::ask_member(n, p.id, "zmesh.streams", nullptr, timeout_);
            m.asked = now;
        }
    }
    std::erase_if(members_, [&](const auto& e) { return !present.contains(e.first); });
}

void stream_poll::take(const node_id& member, const std::string& name, const cli::admin_answer& a) {
    auto& m = members_[member];
    m.name = name;
    m.answered = true;
    // No data directory, or a node before §15: it holds none. Other errors keep what it said last.
    if (a.ok) m.streams = a.result.value("streams", nlohmann::json::array());
    else if (a.code != 0) m.streams = nlohmann::json::array();
}

bool stream_poll::answered_all() const {
    for (const auto& [id, m] : members_)
        if (!m.answered) return false;
    return true;
}

std::vector<stream_row> stream_poll::rows() const {
    std::vector<stream_row> out;
    std::vector<std::pair<std::string, nlohmann::json>> ordered;
    for (const auto& [id, m] : members_)
        for (const auto& s : m.streams) ordered.emplace_back(m.name, s);
    std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
        return std::tie(a.first, a.second["name"]) < std::tie(b.first, b.second["name"]);
    });
    // A dead-letter stream takes no topics and is named after its stream: shown in that row.
    const auto dlq_of = [](const nlohmann::json& s) -> std::string {
        const auto name = s.value("name", "");
        return name.ends_with(".dlq") && s.value("prefix", "").empty() ? name.substr(0, name.size() - 4) : "";
    };
    std::set<std::pair<std::string, std::string>> names;
    std::map<std::pair<std::string, std::string>, std::uint64_t> dead;   // (publisher, stream) -> dead letters
    for (const auto& [publisher, s] : ordered) {
        names.emplace(publisher, s.value("name", ""));
        if (const auto of = dlq_of(s); !of.empty()) dead[{publisher, of}] = s.value("messages", 0ull);
    }
    for (const auto& [publisher, s] : ordered) {
        if (const auto of = dlq_of(s); !of.empty() && names.contains({publisher, of})) continue;
        const auto it = dead.find({publisher, s.value("name", "")});
        out.push_back({publisher, s, it == dead.end() ? 0 : it->second});
    }
    return out;
}

nlohmann::json to_json(const std::vector<stream_row>& rows) {
    auto out = nlohmann::json::array();
    for (const auto& r : rows) {
        auto s = r.stream;
        s["publisher"] = r.publisher;
        s["dead_letters"] = r.dead_letters;
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<std::string> stream_lines(const std::vector<stream_row>& rows) {
    std::vector<std::string> lines;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-16s %-20s %8s %8s %10s %5s %8s %8s %6s", "PUBLISHER", "STREAM", "FIRST", "LAST",
                  "BYTES", "CONS", "PENDING", "REDELIV", "DEAD");
    lines.emplace_back(buf);
    for (const auto& r : rows) {
        std::uint64_t pending = 0, redeliveries = 0;
        for (const auto& c : r.stream["consumers"]) {
            pending += c.value("pending", 0ull);
            redeliveries += c.value("redeliveries", 0ull);
        }
        std::snprintf(buf, sizeof buf, "%-16.16s %-20.20s %8llu %8llu %10llu %5zu %8llu %8llu %6llu", r.publisher.c_str(),
                      r.stream.value("name", "").c_str(),
                      static_cast<unsigned long long>(r.stream.value("first_seq", 0ull)),
                      static_cast<unsigned long long>(r.stream.value("last_seq", 0ull)),
                      static_cast<unsigned long long>(r.stream.value("bytes", 0ull)), r.stream["consumers"].size(),
                      static_cast<unsigned long long>(pending), static_cast<unsigned long long>(redeliveries),
                      static_cast<unsigned long long>(r.dead_letters));
        lines.emplace_back(buf);
    }
    return lines;
}

}  // namespace zmesh::monitor
