// SPDX-License-Identifier: MPL-2.0
// zmesh-monitor: watches a mesh as a passive observer (it sends no beacons and is never
// counted as a member). Live mode redraws a table of peers every second; with
// --once --json it prints one JSON document when the peer set is stable and exits.
#include "cli.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

namespace {

using namespace zmesh;
using clock_type = std::chrono::steady_clock;

std::vector<peer_info> members(const node& n) {
    auto all = n.peers();
    std::erase_if(all, [](const peer_info& p) {
        return p.observer || p.state == peer_state::connecting;
    });
    return all;
}

// Identity of the membership: who is there and in what state.
std::vector<std::pair<node_id, peer_state>> signature(const std::vector<peer_info>& peers) {
    std::vector<std::pair<node_id, peer_state>> s;
    for (const auto& p : peers) s.emplace_back(p.id, p.state);
    std::sort(s.begin(), s.end());
    return s;
}

// Returns: a counter the peer reported about itself, or -1 before its first report.
long long reported(const peer_info& p, std::string_view name) {
    for (const auto& [key, value] : p.reported)
        if (key == name) return static_cast<long long>(value);
    return -1;
}

// A peer as the monitor shows it: its own counters (events_in, events_out, gaps) included.
nlohmann::json peer_json(const peer_info& p) {
    auto j = cli::to_json(p);
    for (const char* name : {"events_in", "events_out", "gaps"}) {
        const auto v = reported(p, name);
        j[name] = v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v);
    }
    return j;
}

std::string counter_cell(const peer_info& p, std::string_view name) {
    const auto v = reported(p, name);
    return v < 0 ? "-" : std::to_string(v);
}

nlohmann::json document(const node& n, const std::vector<peer_info>& peers) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : peers) list.push_back(peer_json(p));
    return {{"mesh", n.config().mesh}, {"peers", list}};
}

void draw(const node& n, const std::vector<peer_info>& peers) {
    std::string out = "\x1b[H\x1b[2J";   // home + clear: redraw in place
    char line[512];
    std::snprintf(line, sizeof line, "zmesh-monitor  mesh %s  %zu peer(s)   (Ctrl-C quits)\n\n",
                  n.config().mesh.c_str(), peers.size());
    out += line;
    std::snprintf(line, sizeof line, "%-16s %-9s %-8s %-24s %-24s %8s %7s %9s %9s %6s  %s\n",
                  "NAME", "ID", "STATE", "PUB", "ROUTER", "SEEN(ms)", "RTT(us)", "EV_OUT",
                  "EV_IN", "GAPS", "SERVES | SUBSCRIBED");
    out += line;
    for (const auto& p : peers) {
        // What it offers and wants: "serves m1,m2 | subscribed a.,b."
        std::string subs;
        for (const auto& s : p.services) subs += (subs.empty() ? "" : ",") + s;
        if (!p.subscriptions.empty()) subs += " |";
        for (const auto& s : p.subscriptions) subs += " " + (s.empty() ? std::string("*") : s);
        std::snprintf(line, sizeof line, "%-16.16s %-9s %-8s %-24.24s %-24.24s %8lld %7s %9s %9s %6s  %.40s\n",
                      p.name.c_str(), p.id.short_hex().c_str(),
                      std::string(to_string(p.state)).c_str(), p.pub_endpoint.c_str(),
                      p.router_endpoint.c_str(), static_cast<long long>(p.last_seen_ms),
                      p.rtt_us < 0 ? "-" : std::to_string(p.rtt_us).c_str(),
                      counter_cell(p, "events_out").c_str(), counter_cell(p, "events_in").c_str(),
                      counter_cell(p, "gaps").c_str(), subs.c_str());
        out += line;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    cli::block_signals();
    cli::po::options_description desc("zmesh-monitor options");
    cli::add_node_flags(desc);
    // clang-format off
    desc.add_options()
        ("once", "print the mesh once and exit (after it is stable or --wait passed)")
        ("json", "print JSON instead of a table")
        ("wait", cli::po::value<double>()->default_value(5.0), "with --once: the most seconds to wait");
    // clang-format on
    const auto vm = cli::parse(argc, argv, desc, "zmesh-monitor --mesh MESH [--once --json --wait S]");

    try {
        auto o = cli::node_options(vm);
        o.observer = true;
        o.stats_poll = std::chrono::milliseconds(1000);   // members report their counters
        if (!vm.count("name")) o.name = "monitor";
        if (vm["log-level"].defaulted()) o.log = log_level::warn;   // keep the table clean
        const double wait_s = vm["wait"].as<double>();
        if (wait_s < 0) throw std::invalid_argument("--wait must be >= 0");
        node n(o);
        n.start();

        if (vm.count("once")) {
            // Stable: the same members in the same states for one beacon interval, and no
            // handshake still in flight.
            const auto settle = std::max(o.beacon_interval, std::chrono::milliseconds(500));
            const auto deadline =
                clock_type::now() + std::chrono::milliseconds(static_cast<long>(wait_s * 1000));
            auto last = signature(members(n));
            auto stable_since = clock_type::now();
            while (clock_type::now() < deadline) {
                if (cli::wait_for_signal(std::chrono::milliseconds(50))) break;
                const auto all = n.peers();
                // Still handshaking, or a member has not yet reported its counters.
                const bool handshaking = std::any_of(all.begin(), all.end(), [](const auto& p) {
                    return p.state == peer_state::connecting ||
                           (!p.observer && p.state == peer_state::joined && p.reported.empty());
                });
                const auto now_sig = signature(members(n));
                if (now_sig != last || handshaking) {
                    last = now_sig;
                    stable_since = clock_type::now();
                } else if (clock_type::now() - stable_since >= settle) {
                    break;
                }
            }
            const auto peers = members(n);
            if (vm.count("json"))
                std::cout << document(n, peers).dump() << std::endl;
            else
                draw(n, peers);
            n.stop();
            return 0;
        }
        while (true) {
            const auto peers = members(n);
            if (vm.count("json"))
                std::cout << document(n, peers).dump() << std::endl;
            else
                draw(n, peers);
            if (cli::wait_for_signal(std::chrono::milliseconds(1000))) break;
        }
        n.stop();
        return 0;
    } catch (const std::exception& e) {
        return cli::fail("zmesh-monitor", e.what());
    }
}
