// SPDX-License-Identifier: MPL-2.0
// zmesh check: a health check of the mesh for scripts and probes: its verdict is its exit
// status.
#include "commands.hpp"
#include "suggest.hpp"

#include <algorithm>
#include <iostream>

namespace zmesh::tool {

namespace {

const char* const about =
    "Checks the mesh as an observer: at least --expect-peers members joined, each\n"
    "--expect-service served by a joined member, each --expect-peer a joined member, each\n"
    "--expect-subscriber TOPIC subscribed to by a joined member. It answers as soon as every\n"
    "expectation holds, else once the view of the mesh has settled; with --timeout it keeps\n"
    "checking that long (a readiness wait: zmesh check --expect-service time --timeout 30s).\n"
    "Prints its verdict on stdout (OK or FAIL, then each check; --json: one JSON object).\n"
    "Exit: 0 every expectation holds; 1 one does not; 2 bad flags; 3 no member of the mesh\n"
    "answered at all (wrong mesh, keys or network: the line says what was heard instead);\n"
    "130/143 interrupted (SIGINT/SIGTERM).";

constexpr int exit_failed = 1, exit_no_mesh = 3;

struct expectations {
    std::size_t peers = 1;
    std::vector<std::string> services, names, topics;
};

std::vector<peer_info> joined(const std::vector<peer_info>& peers) {
    auto members = cli::members_of(peers);
    std::erase_if(members, [](const peer_info& p) { return p.state != peer_state::joined; });
    return members;
}

std::vector<std::string> providers(const std::vector<peer_info>& members, const std::string& method) {
    std::vector<std::string> out;
    for (const auto& p : members)
        if (std::binary_search(p.services.begin(), p.services.end(), method)) out.push_back(p.name);
    return out;
}

bool has_member(const std::vector<peer_info>& members, const std::string& name) {
    return std::any_of(members.begin(), members.end(), [&](const peer_info& p) { return p.name == name; });
}

std::vector<std::string> subscribers(const std::vector<peer_info>& members, const std::string& topic) {
    std::vector<std::string> out;
    for (const auto& p : members)
        if (subscribes_to(p, topic)) out.push_back(p.name);
    return out;
}

bool all_hold(const expectations& want, const std::vector<peer_info>& members) {
    if (members.size() < want.peers) return false;
    for (const auto& m : want.services)
        if (providers(members, m).empty()) return false;
    for (const auto& name : want.names)
        if (!has_member(members, name)) return false;
    for (const auto& topic : want.topics)
        if (subscribers(members, topic).empty()) return false;
    return true;
}

// Each check with its verdict, as JSON.
nlohmann::json checks(const expectations& want, const std::vector<peer_info>& members) {
    std::vector<std::string> methods, names;
    for (const auto& p : members) {
        names.push_back(p.name);
        methods.insert(methods.end(), p.services.begin(), p.services.end());
    }
    auto out = nlohmann::json::array();
    out.push_back({{"check", "peers"}, {"expected", want.peers}, {"found", members.size()}, {"ok", members.size() >= want.peers}});
    for (const auto& m : want.services) {
        const auto by = providers(members, m);
        nlohmann::json c = {{"check", "service"}, {"name", m}, {"providers", by}, {"ok", !by.empty()}};
        if (by.empty()) c["hint"] = cli::did_you_mean(cli::closest(m, methods));
        out.push_back(c);
    }
    for (const auto& name : want.names) {
        const bool ok = has_member(members, name);
        nlohmann::json c = {{"check", "peer"}, {"name", name}, {"ok", ok}};
        if (!ok) c["hint"] = cli::did_you_mean(cli::closest(name, names));
        out.push_back(c);
    }
    for (const auto& topic : want.topics) {
        const auto by = subscribers(members, topic);
        out.push_back({{"check", "subscriber"}, {"name", topic}, {"subscribers", by}, {"ok", !by.empty()}});
    }
    return out;
}

std::string line_of(const nlohmann::json& c) {
    const auto& kind = c["check"].get_ref<const std::string&>();
    const bool ok = c["ok"].get<bool>();
    if (kind == "peers")
        return std::to_string(c["found"].get<std::size_t>()) + " member(s) joined, " + (ok ? "" : "expected ") +
               "at least " + std::to_string(c["expected"].get<std::size_t>());
    const auto& name = c["name"].get_ref<const std::string&>();
    const std::string hint = c.value("hint", "");
    if (kind == "service")
        return "service " + name + ": " +
               (ok ? "served by " + cli::list(c["providers"].get<std::vector<std::string>>(), 4) : "not served" + hint);
    if (kind == "subscriber")
        return "topic " + name + ": " +
               (ok ? "subscribed to by " + cli::list(c["subscribers"].get<std::vector<std::string>>(), 4)
                   : "no subscriber");
    return "peer " + name + ": " + (ok ? "joined" : "not joined" + hint);
}

}  // namespace

int check(int argc, char** argv) {
    cli::po::options_description own("zmesh check options");
    // clang-format off
    own.add_options()
        ("expect-peers", cli::po::value<std::size_t>()->default_value(1), "members joined, at least")
        ("expect-service", cli::po::value<std::vector<std::string>>()->composing(), "a method a joined member serves (repeatable)")
        ("expect-peer", cli::po::value<std::vector<std::string>>()->composing(), "a member joined under this name (repeatable)")
        ("expect-subscriber", cli::po::value<std::vector<std::string>>()->composing(), "TOPIC: a joined member subscribed to it, its filter in place (repeatable)")
        ("timeout", cli::po::value<std::string>()->default_value("0"), "keep checking until every expectation holds, at most this long; seconds or with a unit (500ms) (0: answer once the view has settled)")
        ("json", "print the verdict as one JSON object");
    // clang-format on
    add_wait_flag(own);
    const auto cl = cli::parse(argc, argv, {argv[0], "zmesh check [options]", about, {}, true, "warn"}, own);
    const auto& vm = cl.vm;
    expectations want;
    want.peers = vm["expect-peers"].as<std::size_t>();
    if (vm.count("expect-service")) want.services = vm["expect-service"].as<std::vector<std::string>>();
    if (vm.count("expect-peer")) want.names = vm["expect-peer"].as<std::vector<std::string>>();
    if (vm.count("expect-subscriber")) want.topics = vm["expect-subscriber"].as<std::vector<std::string>>();
    const auto timeout = cli::duration_flag(vm, "timeout", milliseconds(1000));
    const auto wait = wait_flag(vm);

    const auto o = job_options(vm, "check", false);
    const auto start = steady::now();
    node n(o);
    beacon_listener listener(o, n.id());
    n.start();
    auto rules = cli::settle_rules_for(o);
    rules.subscriptions = !want.topics.empty();
    const auto view = cli::await_view(n, rules, start, timeout, wait,
        [&](const std::vector<peer_info>& peers, const cli::settle_tracker&, steady::time_point) {
            return all_hold(want, joined(peers));
        }, &listener);
    if (view.outcome == cli::view_outcome::interrupted) return cli::interrupted_status(view.signal);
    const auto members = joined(view.peers);
    const bool ok = view.outcome == cli::view_outcome::ready;
    const bool no_mesh = !ok && cli::members_of(view.peers).empty();
    const auto results = checks(want, members);
    const std::string why = no_mesh ? cli::why_no_members(o, listener) + cli::unsettled_note(view) : "";
    if (vm.count("json")) {
        nlohmann::json j = {{"ok", ok}, {"mesh", o.mesh}, {"members", members.size()}, {"checks", results}};
        if (no_mesh) j["why"] = why;
        std::cout << j.dump() << std::endl;
    } else {
        std::cout << (ok ? "OK" : "FAIL") << " mesh '" << o.mesh << "'";
        if (no_mesh) std::cout << ": " << why;
        std::cout << "\n";
        for (const auto& c : results) std::cout << "  " << (c["ok"].get<bool>() ? "ok    " : "FAIL  ") << line_of(c) << "\n";
        std::cout << std::flush;
    }
    return ok ? 0 : no_mesh ? exit_no_mesh : exit_failed;
}

}  // namespace zmesh::tool
