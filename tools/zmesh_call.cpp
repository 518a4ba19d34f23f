// SPDX-License-Identifier: MPL-2.0
// zmesh call: calls a method once and prints the result as JSON; when no one serves it, says
// so as soon as the view of the mesh has settled, with what it saw instead.
#include "commands.hpp"
#include "suggest.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

namespace zmesh::tool {

namespace {

const char* const about =
    "Calls METHOD with ARGS (JSON; a bare word is a string; - reads stdin; default null) on a\n"
    "member that serves it (or on --peer) and prints the result as JSON. Joins as an observer.\n"
    "A call no one can answer fails as soon as the view of the mesh has settled (it asks the\n"
    "members to beacon: under a second), naming the methods served and the meshes heard;\n"
    "to wait for a service still starting: zmesh check --expect-service METHOD --timeout D.\n"
    "Exit: 0 the result is printed; 1 the call failed (KIND: message on stderr: no_provider,\n"
    "ambiguous, timeout, peer_lost, remote: code N, decode) or a bad value; 2 bad flags;\n"
    "130/143 interrupted (SIGINT/SIGTERM).";

// "echo (stock), time (stock, clock)": every method the members serve, with its providers.
std::map<std::string, std::vector<std::string>> services_of(const std::vector<peer_info>& members) {
    std::map<std::string, std::vector<std::string>> by_method;
    for (const auto& p : members)
        for (const auto& m : p.services) by_method[m].push_back(p.name);
    return by_method;
}

std::string describe_services(const std::map<std::string, std::vector<std::string>>& by_method) {
    std::vector<std::string> items;
    for (const auto& [method, providers] : by_method) items.push_back(method + " (" + cli::list(providers, 3) + ")");
    return items.empty() ? "none" : cli::list(items, 12);
}

// The line for a method no member serves.
std::string no_provider(const std::string& method, const options& o, const std::vector<peer_info>& members) {
    const auto by_method = services_of(members);
    std::vector<std::string> methods;
    for (const auto& [m, providers] : by_method) methods.push_back(m);
    return "no_provider: no member of mesh '" + o.mesh + "' serves '" + method + "'" +
           cli::did_you_mean(cli::closest(method, methods)) + "; " + std::to_string(members.size()) +
           " member(s) serve: " + describe_services(by_method);
}

// The line for a --peer no member answers to.
std::string no_such_peer(const std::string& peer, bool by_id, const std::vector<peer_info>& members) {
    std::vector<std::string> names;
    for (const auto& p : members) names.push_back(p.name);
    return "no_provider: no member " + std::string(by_id ? "with id '" : "named '") + peer + "'" +
           (by_id ? "" : cli::did_you_mean(cli::closest(peer, names))) + "; members: " +
           (names.empty() ? "none" : cli::list(names));
}

}  // namespace

int call(int argc, char** argv) {
    cli::po::options_description own("zmesh call options");
    // clang-format off
    own.add_options()
        ("peer", cli::po::value<std::string>(), "call this member (by name, or by its 32-hex-digit id), whether or not it advertises METHOD")
        ("timeout", cli::po::value<std::string>()->default_value("5000"), "ms to wait for the reply, or with a unit (2s)");
    // clang-format on
    add_wait_flag(own);
    const auto cl = cli::parse(argc, argv,
                               {argv[0], "zmesh call [options] METHOD [ARGS]", about, {"METHOD", "ARGS?"}, true, "warn"},
                               own);
    const auto& vm = cl.vm;
    const auto method = cl.args[0];
    const auto args = cli::body_to_msgpack(cl.args.size() > 1 ? cl.args[1] : "null", std::cin);
    const auto timeout = cli::duration_flag(vm, "timeout", milliseconds(1));
    if (timeout.count() <= 0) throw std::invalid_argument("--timeout must be > 0");
    const auto wait = wait_flag(vm);
    const std::string peer_name = vm.count("peer") ? vm["peer"].as<std::string>() : "";
    const auto peer_id = node_id::from_hex(peer_name);

    const auto o = job_options(vm, "call", false);
    const auto start = steady::now();
    node n(o);
    beacon_listener listener(o, n.id());
    n.start();
    // A member named by --peer must be the only one of its name: the table must be quiet for
    // a moment, so that a second member of that name, named in a PEERS list, shows.
    std::vector<peer_info> named;
    const auto view = cli::await_view(n, cli::settle_rules_for(o), start, milliseconds(0), wait,
        [&](const std::vector<peer_info>& peers, const cli::settle_tracker& t, steady::time_point now) {
            const auto members = cli::members_of(peers);
            named.clear();
            for (const auto& p : members)
                if (peer_id ? p.id == *peer_id : p.name == peer_name) named.push_back(p);
            if (!peer_name.empty()) return !named.empty() && (peer_id || t.quiet_for(milliseconds(150), now));
            return std::any_of(members.begin(), members.end(), [&](const peer_info& p) {
                return std::binary_search(p.services.begin(), p.services.end(), method);
            });
        }, &listener);
    if (view.outcome == cli::view_outcome::interrupted) return cli::interrupted_status(view.signal);
    const auto members = cli::members_of(view.peers);
    if (view.outcome != cli::view_outcome::ready) {
        std::string line;
        if (members.empty())
            line = "no_provider: " + cli::why_no_members(o, listener);
        else if (!peer_name.empty())
            line = no_such_peer(peer_name, peer_id.has_value(), members);
        else
            line = no_provider(method, o, members);
        std::fprintf(stderr, "%s%s\n", line.c_str(), cli::unsettled_note(view).c_str());
        return 1;
    }
    if (named.size() > 1) {
        std::string which;
        for (const auto& p : named) which += (which.empty() ? "" : ", ") + p.id.hex() + " at " + p.router_endpoint;
        std::fprintf(stderr, "ambiguous: %zu joined members are named '%s' (%s); name one by its id: --peer ID\n",
                     named.size(), peer_name.c_str(), which.c_str());
        return 1;
    }
    const std::optional<node_id> target = named.empty() ? std::nullopt : std::optional(named.front().id);
    auto future = n.call_packed(target, method, args, timeout);
    // Ctrl-C ends the wait for a reply too, not only the wait for the mesh.
    while (future.wait_for(milliseconds(20)) != std::future_status::ready)
        if (const int sig = cli::wait_for_signal(milliseconds(0))) return cli::interrupted_status(sig);
    try {
        const auto r = future.get();
        std::printf("%s\n", nlohmann::json::from_msgpack(r.bytes().begin(), r.bytes().end()).dump().c_str());
        return 0;
    } catch (const rpc_error& e) {
        std::string line = std::string(to_string(e.kind())) + ": ";
        if (e.kind() == rpc_errc::remote) line += "code " + std::to_string(e.code()) + ": ";
        line += e.what();
        // A named member that does not serve the method (the server's code for that, in
        // PROTOCOL.md): say what it does serve.
        if (e.kind() == rpc_errc::remote && e.code() == -32601 && !named.empty()) {
            const auto& served = named.front().services;
            line += "; " + named.front().name + " serves: " + (served.empty() ? "nothing" : cli::list(served)) +
                    cli::did_you_mean(cli::closest(method, served));
        }
        std::fprintf(stderr, "%s\n", line.c_str());
        return 1;
    } catch (const nlohmann::json::exception& e) {
        std::fprintf(stderr, "decode: the result is not JSON-compatible: %s\n", e.what());
        return 1;
    }
}

}  // namespace zmesh::tool
