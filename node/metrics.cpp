// SPDX-License-Identifier: MPL-2.0
// metrics: the Prometheus exposition of members and their counters.
#include <zmesh/metrics.hpp>
#include <zmesh/stats.hpp>

#include <cstdio>
#include <functional>
#include <map>

namespace zmesh {

std::string prometheus_label(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {

std::string number(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", v);
    return buffer;
}

class exposition {
public:
    explicit exposition(std::string mesh) : mesh_(std::move(mesh)) {}

    // Starts a family: its HELP and TYPE lines.
    void family(const std::string& name, std::string_view type, std::string_view help) {
        out_ += "# HELP " + name + " " + std::string(help) + "\n# TYPE " + name + " " + std::string(type) + "\n";
    }
    // Who a sample is of: a figure this node keeps of a peer (labels peer, peer_id), or a
    // counter a member reported of itself (labels node, id).
    enum class of { peer, node };
    // One sample of the current family for `p`, with `extra` labels (name="value" pairs).
    void sample(const std::string& name, of whom, const peer_info& p, const std::string& value,
                const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        const bool peer = whom == of::peer;
        out_ += name + "{mesh=\"" + prometheus_label(mesh_) + (peer ? "\",peer=\"" : "\",node=\"") +
                prometheus_label(p.name) + (peer ? "\",peer_id=\"" : "\",id=\"") + p.id.hex() + "\"";
        for (const auto& [label, v] : extra) out_ += "," + label + "=\"" + prometheus_label(v) + "\"";
        out_ += "} " + value + "\n";
    }
    std::string text() && { return std::move(out_); }

private:
    std::string mesh_;
    std::string out_;
};

}  // namespace

std::string prometheus_text(const std::string& mesh, const std::vector<peer_info>& peers) {
    exposition e(mesh);
    constexpr auto peer = exposition::of::peer, node = exposition::of::node;
    e.family("zmesh_peer_joined", "gauge", "1 while the member is joined, 0 while evasive or handshaking");
    for (const auto& p : peers) e.sample("zmesh_peer_joined", peer, p, p.state == peer_state::joined ? "1" : "0");

    e.family("zmesh_peer_state", "gauge", "the member's state as this node sees it, one series per state");
    for (const auto& p : peers) e.sample("zmesh_peer_state", peer, p, "1", {{"state", std::string(to_string(p.state))}});

    e.family("zmesh_peer_rtt_seconds", "gauge", "the last round trip to the member (members whose link is in use)");
    for (const auto& p : peers)
        if (p.rtt_us >= 0) e.sample("zmesh_peer_rtt_seconds", peer, p, number(static_cast<double>(p.rtt_us) / 1e6));

    e.family("zmesh_peer_last_seen_seconds", "gauge", "time since any traffic came from the member");
    for (const auto& p : peers) e.sample("zmesh_peer_last_seen_seconds", peer, p, number(static_cast<double>(p.last_seen_ms) / 1e3));

    e.family("zmesh_peer_serves", "gauge", "1 for each method the member serves");
    for (const auto& p : peers)
        for (const auto& m : p.services) e.sample("zmesh_peer_serves", peer, p, "1", {{"method", m}});

    e.family("zmesh_peer_subscribes", "gauge", "1 for each topic prefix the member subscribes to");
    for (const auto& p : peers)
        for (const auto& prefix : p.subscriptions) e.sample("zmesh_peer_subscribes", peer, p, "1", {{"prefix", prefix}});

    // The counters members report, by name: a family each, in the order node_counters lists them.
    for (const auto& c : node_counters) {
        const std::string name = "zmesh_" + std::string(c.name) + "_total";
        bool any = false;
        for (const auto& p : peers)
            for (const auto& [counter, value] : p.reported) {
                if (counter != c.name) continue;
                if (!any) e.family(name, "counter", c.meaning);
                any = true;
                e.sample(name, node, p, std::to_string(value));
            }
    }
    return std::move(e).text();
}

}  // namespace zmesh
