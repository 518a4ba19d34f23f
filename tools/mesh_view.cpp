// SPDX-License-Identifier: MPL-2.0
// mesh_view: the settle rule, the beacon tally and listener, and what a tool says when it saw
// no member.
#include "mesh_view.hpp"

#include "cli.hpp"
#include "suggest.hpp"
#include "discovery/interfaces.hpp"
#include "protocol/beacon.hpp"

#include <algorithm>
#include <cstdio>

namespace zmesh::cli {

namespace {

// PROTOCOL.md §5.2 rule 4: an observer asks at once and again 250 ms later (never sooner, nor
// later than a beacon interval), and a member answers within 100 ms.
constexpr milliseconds second_question{250};
constexpr milliseconds answer_within{100};

}  // namespace

milliseconds settle_rules::floor() const {
    if (beacon_interval.count() <= 0) return milliseconds(1000) + 2 * quiet;
    // Each of M members answers a question with a chance of 3 in M, so in a large mesh no
    // member answers about one question in twenty (e^-3), and a datagram may be lost: the
    // second question is the first's insurance. A member answers at most one question per
    // 500 ms (another caller's, say): then only the third (at 750 ms) or its own beacon is
    // sure to be answered, and the view waits for it as long as it heard nothing it could
    // name instead (may_tell_empty).
    const auto answered = asks ? std::min(second_question, beacon_interval) + answer_within : beacon_interval;
    return answered + 2 * quiet;
}

bool settle_rules::may_tell_empty(std::size_t heard, milliseconds elapsed) const {
    return heard > 0 || beacon_interval.count() <= 0 || elapsed >= silence();
}

settle_rules settle_rules_for(const options& o) {
    settle_rules r;
    r.beacon_interval = o.beacon_interval;
    r.asks = o.observer && o.beacon_interval.count() > 0;
    return r;
}

settle_tracker::settle_tracker(settle_rules rules, steady::time_point start)
    : rules_(rules), start_(start), changed_at_(start) {}

bool settle_tracker::update(const std::vector<peer_info>& peers, steady::time_point now) {
    std::vector<entry> table;
    table.reserve(peers.size());
    pending_ = 0;
    for (const auto& p : peers) {
        table.push_back({p.id, p.state, p.services, p.subscriptions_known, p.subscriptions});
        const bool member = !p.observer && p.state != peer_state::connecting;
        if (p.state == peer_state::connecting || (rules_.subscriptions && member && !p.subscriptions_known))
            ++pending_;
        member_seen_ |= member;
    }
    std::sort(table.begin(), table.end(), [](const entry& a, const entry& b) { return a.id < b.id; });
    if (table != table_) {
        table_ = std::move(table);
        changed_at_ = now;
    }
    // Every member beacons once an interval, or answers a question; a member that answered
    // sent its PEERS, naming the others, right after its HELLO. Without beacons only an
    // answer says anything.
    const bool heard_all = member_seen_ || (rules_.beacon_interval.count() > 0 && now - start_ >= rules_.floor());
    settled_ = heard_all && quiet_for(rules_.quiet, now);
    return settled_;
}

bool settle_tracker::quiet_for(milliseconds d, steady::time_point now) const {
    return pending_ == 0 && now - changed_at_ >= d;
}

std::vector<peer_info> members_of(const std::vector<peer_info>& peers) {
    std::vector<peer_info> out;
    for (const auto& p : peers)
        if (!p.observer && (p.state == peer_state::joined || p.state == peer_state::evasive)) out.push_back(p);
    std::sort(out.begin(), out.end(), [](const peer_info& a, const peer_info& b) {
        return a.name != b.name ? a.name < b.name : a.id < b.id;
    });
    return out;
}

void beacon_tally::heard(const std::string& mesh, const node_id& id) {
    if (nodes_ >= max_nodes) return;
    if (meshes_[mesh].insert(id).second) ++nodes_;
}

std::vector<std::pair<std::string, std::size_t>> beacon_tally::others(const std::string& own) const {
    std::vector<std::pair<std::string, std::size_t>> out;
    for (const auto& [mesh, ids] : meshes_)
        if (mesh != own) out.emplace_back(mesh, ids.size());
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return out;
}

std::size_t beacon_tally::nodes_of(const std::string& mesh) const {
    const auto it = meshes_.find(mesh);
    return it == meshes_.end() ? 0 : it->second.size();
}

beacon_listener::beacon_listener(const options& o, const node_id& self) : port_(o.beacon_port), self_(self) {
    if (o.beacon_interval.count() <= 0) return;
    const auto choice = discovery::choose_interfaces(discovery::list_ipv4_interfaces(), o.interface);
    const auto* chosen = std::get_if<discovery::interface_choice>(&choice);
    if (!chosen) return;   // the node says why, and fails to start
    try {
        socket_ = std::make_unique<discovery::beacon_socket>(o.beacon_port, chosen->chosen);
    } catch (const std::exception&) {
        // Only a hint is lost: the tool works without it.
    }
}

beacon_listener::~beacon_listener() = default;

void beacon_listener::poll() {
    if (!socket_) return;
    while (auto d = socket_->receive(protocol::max_beacon_size)) {
        // Any well-formed beacon names its mesh: a signed one of another mesh's secret too.
        const auto b = protocol::decode_beacon(d->bytes);
        if (b && b->id != self_) tally_.heard(b->mesh, b->id);
    }
}

view_result await_view(const node& n, const settle_rules& rules, steady::time_point start, milliseconds hold,
                       milliseconds bound, const view_ready& ready, beacon_listener* listener) {
    settle_tracker view(rules, start);
    const bool listening = listener && listener->listening();
    const auto longest_settle = listening ? std::max(rules.floor(), rules.silence()) : rules.floor();
    const auto give_up = start + std::max({bound, hold, longest_settle});
    view_result r{view_outcome::unsettled, {}, {}, 0, 0};
    while (true) {
        if (listener) listener->poll();
        const auto now = steady::now();
        r.peers = n.peers();
        const bool settled = view.update(r.peers, now);
        r.elapsed = std::chrono::duration_cast<milliseconds>(now - start);
        r.pending = view.pending();
        if (ready && ready(r.peers, view, now)) {
            r.outcome = view_outcome::ready;
            return r;
        }
        const bool told = !listening || !members_of(r.peers).empty() ||
                          rules.may_tell_empty(listener->tally().nodes(), r.elapsed);
        if (settled && now >= start + hold && told) {
            r.outcome = view_outcome::settled;
            return r;
        }
        if (now >= give_up) {
            r.outcome = view_outcome::unsettled;
            return r;
        }
        if (const int sig = wait_for_signal(milliseconds(20))) {
            r.outcome = view_outcome::interrupted;
            r.signal = sig;
            return r;
        }
    }
}

std::string why_no_members(const options& o, const beacon_listener& listener) {
    const std::string mesh = "'" + o.mesh + "'";
    if (!listener.listening()) {
        if (o.beacon_interval.count() <= 0 && !o.seeds.empty())
            return "no node of mesh " + mesh + " answered: no seed did (" + list(o.seeds, 4) + ")";
        return "no node of mesh " + mesh + " answered";
    }
    const auto port = std::to_string(listener.port());
    const auto& tally = listener.tally();
    if (const auto own = tally.nodes_of(o.mesh); own > 0)
        return std::to_string(own) + " node(s) of mesh " + mesh + " beacon on port " + port +
               " but none let this node in: a secured mesh needs the same --mesh-secret and a key "
               "each side allows (--key, --allow), or the network between us refuses TCP";
    const auto others = tally.others(o.mesh);
    if (others.empty())
        return "no node of mesh " + mesh + " answered, and no beacon of any mesh came to port " + port +
               " (interface " + o.interface + ")" +
               (o.seeds.empty() ? "; is a node running? On another host: --interface, or --seed" : "");
    std::string seen;
    std::vector<std::string> names;
    for (const auto& [other, nodes] : others) {
        if (names.size() == 5) break;
        seen += (seen.empty() ? "" : ", ") + std::to_string(nodes) + " on '" + other + "'";
        names.push_back(other);
    }
    if (others.size() > names.size()) seen += ", ... (" + std::to_string(others.size() - names.size()) + " more meshes)";
    return "no node on mesh " + mesh + "; " + seen + did_you_mean(closest(o.mesh, names), "--mesh ");
}

std::string unsettled_note(const view_result& r) {
    if (r.outcome != view_outcome::unsettled) return {};
    char buf[128];
    std::snprintf(buf, sizeof buf, " (the view had not settled after %.1f s: %zu peer(s) still in handshake)",
                  static_cast<double>(r.elapsed.count()) / 1000.0, r.pending);
    return buf;
}

}  // namespace zmesh::cli
