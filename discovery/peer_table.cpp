// SPDX-License-Identifier: MPL-2.0
// peer_table: liveness transitions.
#include "peer_table.hpp"

#include <algorithm>

namespace zmesh::discovery {

peer* peer_table::find(const protocol::node_id& id) {
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : &it->second;
}

const peer* peer_table::find(const protocol::node_id& id) const {
    return const_cast<peer_table*>(this)->find(id);
}

const peer* peer_table::find_by_pub_endpoint(const std::string& pub_endpoint) const {
    return const_cast<peer_table*>(this)->find_by_pub_endpoint(pub_endpoint);
}

peer* peer_table::find_by_pub_endpoint(const std::string& pub_endpoint) {
    for (auto& [id, p] : peers_)
        if (p.pub_endpoint == pub_endpoint) return &p;
    return nullptr;
}

peer* peer_table::holder_of(const std::string& pub_endpoint, const std::string& router_endpoint,
                            const protocol::node_id& except) {
    for (auto& [id, p] : peers_)
        if (id != except && (p.pub_endpoint == pub_endpoint || p.router_endpoint == router_endpoint))
            return &p;
    return nullptr;
}

peer* peer_table::given(std::uint64_t token) {
    if (token == 0) return nullptr;
    for (auto& [id, p] : peers_)
        if (p.our_token == token) return &p;
    return nullptr;
}

peer& peer_table::add(const protocol::node_id& id, std::string name, std::string pub_endpoint,
                      std::string router_endpoint, clock::time_point now, std::uint64_t token) {
    peer p;
    p.id = id;
    p.our_token = token;
    p.name = std::move(name);
    p.pub_endpoint = std::move(pub_endpoint);
    p.router_endpoint = std::move(router_endpoint);
    p.created = p.last_seen = p.last_used = now;
    ++version_;
    auto& added = peers_.emplace(id, std::move(p)).first->second;
    linked_.push_back(&added);   // dialled; a member known by gossip is taken out (add_member)
    return added;
}

peer_change peer_table::add_member(const protocol::node_id& id, std::string name, std::string pub_endpoint,
                                   std::string router_endpoint, std::vector<std::string> services,
                                   clock::time_point now) {
    peer& p = add(id, std::move(name), pub_endpoint, router_endpoint, now, 0);
    p.advertised_pub = std::move(pub_endpoint);
    p.advertised_router = std::move(router_endpoint);
    std::sort(services.begin(), services.end());   // looked up by binary search, as a HELLO's
    p.services = std::move(services);
    p.gossips = true;
    p.linked = false;
    unindex(p);
    p.heard_hello = false;
    p.state = peer_state::joined;
    return peer_change{change_kind::joined, leave_reason::none, p};
}

void peer_table::update_member(peer& p, std::string name, std::vector<std::string> services) {
    std::sort(services.begin(), services.end());
    if (p.name == name && p.services == services) return;
    ++version_;
    p.name = std::move(name);
    p.services = std::move(services);
}

void peer_table::linked(peer& p, std::uint64_t token, clock::time_point now) {
    if (!p.linked) linked_.push_back(&p);
    ++version_;
    p.linked = true;
    p.our_token = token;
    p.last_seen = p.last_used = now;
}

void peer_table::unlinked(peer& p) {
    if (!p.linked) return;
    unindex(p);
    ++version_;
    p.linked = false;
    p.link_up = false;
    p.disconnected_at.reset();
    p.refused_reconnects = 0;
    p.doubted_since.reset();
    p.rtt_us = -1;
}

std::optional<peer_change> peer_table::on_hello(peer& p, const protocol::hello& h,
                                                clock::time_point now) {
    ++version_;
    p.name = h.name;
    p.advertised_pub = h.pub_endpoint;
    p.advertised_router = h.router_endpoint;
    p.services = h.services;
    p.observer = (h.flags & protocol::hello_flag_observer) != 0;
    p.takes_call_links = (h.flags & protocol::hello_flag_call_links) != 0;
    p.gossips = (h.flags & protocol::hello_flag_gossip) != 0;
    p.their_token = h.token;
    p.heard_hello = true;
    if (p.state == peer_state::connecting) {
        p.state = peer_state::joined;
        p.last_seen = now;
        return peer_change{change_kind::joined, leave_reason::none, p};
    }
    return on_traffic(p, now);
}

std::optional<peer_change> peer_table::on_traffic(peer& p, clock::time_point now) {
    p.last_seen = now;
    p.doubted_since.reset();
    // While its connection is down, stale messages still queued on our side must not clear
    // the suspicion: only a reconnect does.
    if (p.state == peer_state::evasive && !p.disconnected_at) {
        ++version_;
        p.state = peer_state::joined;
        return peer_change{change_kind::recovered, leave_reason::none, p};
    }
    return std::nullopt;
}

std::optional<peer_change> peer_table::on_disconnect(peer& p, clock::time_point now) {
    p.link_up = false;
    if (p.state == peer_state::connecting) return std::nullopt;
    if (!p.disconnected_at) {
        p.disconnected_at = now;
        p.refused_reconnects = 0;
    }
    if (p.state == peer_state::joined) {
        ++version_;
        p.state = peer_state::evasive;
        return peer_change{change_kind::evasive, leave_reason::none, p};
    }
    return std::nullopt;
}

std::optional<peer_change> peer_table::doubt(peer& p, clock::time_point now) {
    if (p.state == peer_state::connecting || p.doubted_since) return std::nullopt;
    p.doubted_since = now;
    if (p.state != peer_state::joined) return std::nullopt;
    ++version_;
    p.state = peer_state::evasive;
    return peer_change{change_kind::evasive, leave_reason::none, p};
}

std::optional<peer_change> peer_table::on_link_up(peer& p, clock::time_point now) {
    p.link_up = true;
    p.disconnected_at.reset();
    if (p.state == peer_state::connecting) return std::nullopt;   // its HELLO makes it joined
    return on_traffic(p, now);
}

std::optional<peer_change> peer_table::on_reconnect_failed(peer& p) {
    if (!p.disconnected_at || p.state == peer_state::connecting) return std::nullopt;
    if (++p.refused_reconnects < 2) return std::nullopt;
    return remove(p.id, leave_reason::disconnected);
}

std::optional<peer_change> peer_table::remove(protocol::node_id id, leave_reason why) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return std::nullopt;
    ++version_;
    unindex(it->second);
    peer p = std::move(it->second);
    peers_.erase(it);
    if (p.state == peer_state::connecting) return std::nullopt;
    p.state = peer_state::left;
    return peer_change{change_kind::left, why, std::move(p)};
}

std::vector<peer_change> peer_table::tick(clock::time_point now, std::vector<peer>* dropped) {
    std::vector<peer_change> changes;
    std::vector<std::pair<protocol::node_id, leave_reason>> gone;
    // Members known by gossip alone are judged by gossip: only linked peers are walked.
    for (auto* linked : linked_) {
        auto& p = *linked;
        const auto& id = p.id;
        if (p.state == peer_state::connecting) {
            if (now - p.created > cfg_.handshake) gone.emplace_back(id, leave_reason::expired);
            continue;
        }
        if (p.link_up && (links_heartbeated_ || p.gossips)) p.last_seen = now;
        const auto silent = now - p.last_seen;
        if (p.disconnected_at && now - *p.disconnected_at > cfg_.down_allowed())
            gone.emplace_back(id, leave_reason::disconnected);
        else if (p.doubted_since && now - *p.doubted_since > cfg_.evasive)
            gone.emplace_back(id, leave_reason::expired);
        else if (silent > cfg_.expired)
            gone.emplace_back(id, leave_reason::expired);
        else if (p.state == peer_state::joined && silent > cfg_.evasive) {
            ++version_;
            p.state = peer_state::evasive;
            changes.push_back({change_kind::evasive, leave_reason::none, p});
        }
    }
    for (const auto& [id, why] : gone) {
        const auto it = peers_.find(id);
        if (it->second.state == peer_state::connecting) {
            ++handshake_timeouts_;
            unindex(it->second);
            if (dropped) dropped->push_back(std::move(it->second));
            peers_.erase(it);
            ++version_;
        } else if (auto c = remove(id, why)) {
            changes.push_back(std::move(*c));
        }
    }
    return changes;
}

void peer_table::unindex(const peer& p) {
    const auto at = std::find(linked_.begin(), linked_.end(), &p);
    if (at == linked_.end()) return;
    *at = linked_.back();
    linked_.pop_back();
}

}  // namespace zmesh::discovery
