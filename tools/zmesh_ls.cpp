// SPDX-License-Identifier: MPL-2.0
// zmesh ls: the members of a mesh, the methods they serve, the topics they subscribe to (and,
// with --listen, the topics published), once the view has settled.
#include "commands.hpp"

#include <iostream>
#include <map>
#include <mutex>
#include <set>

namespace zmesh::tool {

namespace {

const char* const about =
    "Lists, once the view of the mesh has settled, its members (name, id, state, round trip),\n"
    "the methods each serves and the topic prefixes each subscribes to; with --listen, also the\n"
    "topics published meanwhile, and by whom. Joins as an observer.\n"
    "Exit: 0 listed; 1 no member answered (why, on stderr) or a bad value; 2 bad flags;\n"
    "130/143 interrupted (SIGINT/SIGTERM).";

// The topics published while listening; written by the delivery thread. Bounded.
struct topic_counts {
    static constexpr std::size_t max_topics = 1000;
    std::mutex mutex;
    std::map<std::string, std::pair<std::uint64_t, std::set<std::string>>> topics;
    void add(const event& e) {
        std::lock_guard lock(mutex);
        if (topics.size() >= max_topics && !topics.count(e.topic())) return;
        auto& t = topics[e.topic()];
        ++t.first;
        t.second.insert(e.sender_name());
    }
};

using index = std::map<std::string, std::vector<std::string>>;

std::string rtt(std::int64_t us) {
    if (us < 0) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(us) / 1000.0);
    return buf;
}

std::string joined_or_dash(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? "-" : s;
}

void print_index(const char* title, const index& by) {
    if (by.empty()) return;
    std::cout << title << "\n";
    for (const auto& [key, names] : by) std::cout << "  " << (key.empty() ? "\"\"" : key) << ": " << joined_or_dash(names) << "\n";
}

}  // namespace

int ls(int argc, char** argv) {
    cli::po::options_description own("zmesh ls options");
    // clang-format off
    own.add_options()
        ("json", "print one JSON object")
        ("observers", "list observers too (monitors, zmesh call/pub/ls/check)")
        ("listen", cli::po::value<std::string>()->default_value("0"), "also listen to every event this long once settled, and list the topics published; seconds or with a unit (500ms)");
    // clang-format on
    add_wait_flag(own);
    const auto cl = cli::parse(argc, argv, {argv[0], "zmesh ls [options]", about, {}, true, "warn"}, own);
    const auto& vm = cl.vm;
    const bool json = vm.count("json") > 0, observers = vm.count("observers") > 0;
    const auto listen = cli::duration_flag(vm, "listen", milliseconds(1000));

    const auto o = job_options(vm, "ls", false);
    const auto start = steady::now();
    topic_counts published;   // outlives the node, whose thread writes it
    node n(o);
    beacon_listener listener(o, n.id());
    if (listen.count() > 0) n.subscribe("", [&published](const event& e) { published.add(e); });
    n.start();
    auto rules = cli::settle_rules_for(o);
    rules.subscriptions = true;
    const auto view = cli::await_view(n, rules, start, milliseconds(0), wait_flag(vm), nullptr, &listener);
    if (view.outcome == cli::view_outcome::interrupted) return cli::interrupted_status(view.signal);
    if (listen.count() > 0)
        if (const int sig = cli::wait_for_signal(listen)) return cli::interrupted_status(sig);
    const auto all = n.peers();
    n.stop();
    const auto members = cli::members_of(all);
    if (members.empty()) throw std::runtime_error(cli::why_no_members(o, listener) + cli::unsettled_note(view));

    index services, subscriptions;
    for (const auto& p : members) {
        for (const auto& m : p.services) services[m].push_back(p.name);
        for (const auto& s : p.subscriptions) subscriptions[s].push_back(p.name);
    }
    std::vector<peer_info> watchers;
    for (const auto& p : all)
        if (p.observer && p.state != peer_state::connecting) watchers.push_back(p);
    const auto others = listener.tally().others(o.mesh);

    if (json) {
        nlohmann::json j = {{"mesh", o.mesh}, {"settled", view.outcome == cli::view_outcome::settled}};
        j["members"] = nlohmann::json::array();
        for (const auto& p : members) j["members"].push_back(cli::to_json(p));
        if (observers) {
            j["observers"] = nlohmann::json::array();
            for (const auto& p : watchers) j["observers"].push_back(cli::to_json(p));
        }
        j["services"] = services;
        j["subscriptions"] = subscriptions;
        if (listen.count() > 0) {
            j["topics"] = nlohmann::json::object();
            std::lock_guard lock(published.mutex);
            for (const auto& [topic, t] : published.topics) j["topics"][topic] = {{"events", t.first}, {"from", t.second}};
        }
        j["other_meshes"] = nlohmann::json::array();
        for (const auto& [mesh, nodes] : others) j["other_meshes"].push_back({{"mesh", mesh}, {"nodes", nodes}});
        std::cout << j.dump() << std::endl;
        return 0;
    }
    std::cout << "mesh '" << o.mesh << "': " << members.size() << " member(s)" << cli::unsettled_note(view) << "\n";
    std::vector<std::vector<std::string>> rows = {{"NAME", "ID", "STATE", "RTT", "SERVES", "SUBSCRIBES"}};
    for (const auto& p : members)
        rows.push_back({p.name, p.id.short_hex(), std::string(to_string(p.state)), rtt(p.rtt_us),
                        joined_or_dash(p.services), joined_or_dash(p.subscriptions)});
    if (observers)
        for (const auto& p : watchers)
            rows.push_back({p.name, p.id.short_hex(), "observer", rtt(p.rtt_us), "-", "-"});
    cli::print_table(rows, "  ");
    print_index("services (method: members)", services);
    print_index("subscriptions (prefix: members)", subscriptions);
    if (listen.count() > 0) {
        std::lock_guard lock(published.mutex);
        std::cout << "topics published in " << static_cast<double>(listen.count()) / 1000.0 << " s\n";
        std::vector<std::vector<std::string>> topic_rows;
        for (const auto& [topic, t] : published.topics)
            topic_rows.push_back({topic, std::to_string(t.first) + " event(s)",
                                  "from " + joined_or_dash({t.second.begin(), t.second.end()})});
        if (topic_rows.empty()) std::cout << "  (none)\n";
        cli::print_table(topic_rows, "  ");
    }
    if (!others.empty()) {
        std::string s;
        for (const auto& [mesh, nodes] : others) s += (s.empty() ? "" : ", ") + ("'" + mesh + "' (" + std::to_string(nodes) + " node(s))");
        std::cout << "other meshes on beacon port " << listener.port() << ": " << s << "\n";
    }
    std::cout << std::flush;
    return 0;
}

}  // namespace zmesh::tool
