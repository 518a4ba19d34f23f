// SPDX-License-Identifier: MPL-2.0
// Nodes that gossip (options::gossip), in one process on loopback: joiners that know one seed
// learn the rest by MEMBERS and gossip, every member probes over UDP, and a node that gossips
// and one that does not stay members of one mesh, each joiner learning of both kinds.
#include "node_fixture.hpp"

#include <zmesh/keys.hpp>


namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> others(std::size_t count, std::size_t except) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < count; ++i)
        if (i != except) names.push_back("g" + std::to_string(i));
    std::sort(names.begin(), names.end());
    return names;
}

TEST_F(node_fixture, gossiping_joiners_that_know_one_seed_learn_every_member) {
    constexpr std::size_t count = 6;
    auto seed_options = make_options("g0");
    seed_options.gossip = true;
    seed_options.beacon_interval = 0ms;   // no beacons: only the seed, then gossip
    auto& seed = start(seed_options);
    for (std::size_t i = 1; i < count; ++i) {
        auto o = make_options("g" + std::to_string(i));
        o.gossip = true;
        o.beacon_interval = 0ms;
        o.seeds = {seed.router_endpoint()};
        start(o);
    }
    for (std::size_t i = 0; i < count; ++i)
        EXPECT_TRUE(wait_until([&] { return joined_names(*nodes_[i]) == others(count, i); }, 15s))
            << "g" << i << " sees " << joined_names(*nodes_[i]).size();
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_TRUE(wait_until([&] { return nodes_[i]->stats().gossip_received > 0; }, 5s)) << "g" << i;
        EXPECT_EQ(nodes_[i]->stats().gossip_invalid, 0u) << "g" << i;
    }
}

// Past options::link_everyone_below, members that neither call each other nor take each
// other's events hold no link (PROTOCOL.md §16.5): a call opens one, and so does taking
// events from a member whose meta lists their prefix (declared, or found at its first event).
TEST_F(node_fixture, past_the_threshold_links_open_where_calls_and_events_go) {
    constexpr std::size_t count = 4;
    auto gossiping = [&](std::size_t i) {
        auto o = make_options("g" + std::to_string(i));
        o.gossip = true;
        o.beacon_interval = 0ms;
        o.link_everyone_below = 0;
        if (i > 0) o.seeds = {nodes_[0]->router_endpoint()};
        if (i == 1) o.publishes = {"news."};
        return o;
    };
    start(gossiping(0));
    for (std::size_t i = 1; i < count; ++i) {
        auto o = gossiping(i);
        if (i == 2) {
            auto& n = start(o);
            n.serve("two.echo", [](const request& r) -> response { return r; });
        } else {
            start(o);
        }
    }
    for (std::size_t i = 0; i < count; ++i)
        ASSERT_TRUE(wait_until([&] { return joined_names(*nodes_[i]) == others(count, i); }, 15s)) << "g" << i;
    const auto linked = [](const node& n, const std::string& name) {
        for (const auto& p : n.peers())
            if (p.name == name) return p.linked;
        return false;
    };
    auto& g1 = *nodes_[1];
    auto& g2 = *nodes_[2];
    auto& g3 = *nodes_[3];
    // g1 and g2 met through the seed's table: each lists the other, with no link.
    EXPECT_FALSE(linked(g1, "g2"));
    EXPECT_FALSE(linked(g2, "g1"));
    ASSERT_TRUE(wait_until([&] {
        for (const auto& p : g1.peers())
            if (p.name == "g2") return p.services == std::vector<std::string>{"two.echo"};
        return false;
    }, 10s));
    auto f = g1.call("two.echo", 42, 5s);
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(f.get().as<int>(), 42);
    EXPECT_TRUE(linked(g1, "g2"));
    EXPECT_TRUE(wait_until([&] { return linked(g2, "g1"); }, 5s)) << "linked back on its HELLO";
    // A node that takes events links to the members that publish what it takes: g1 said so
    // from its start; g2 says so with its first event on such a topic.
    EXPECT_FALSE(linked(g3, "g2"));
    std::atomic<int> from_g1{0}, from_g2{0};
    g3.subscribe("news.", [&](const event& e) { ++(e.sender_name() == "g1" ? from_g1 : from_g2); });
    ASSERT_TRUE(wait_until([&] { return linked(g3, "g1"); }, 5s));
    ASSERT_TRUE(wait_until([&] {
        (void)g1.publish("news.one", 1);
        return from_g1.load() > 0;
    }, 10s));
    EXPECT_FALSE(linked(g3, "g2")) << "it has published nothing yet";
    ASSERT_TRUE(wait_until([&] {
        (void)g2.publish("news.two", 2);
        return from_g2.load() > 0;
    }, 10s));
    EXPECT_TRUE(linked(g3, "g2"));
    g3.stop();   // before the counters go away
}

// A publisher that waits for its subscribers before its first event, with nothing declared,
// tells the members it will publish: past the threshold they would not link it otherwise.
TEST_F(node_fixture, past_the_threshold_a_publisher_waiting_for_subscribers_is_linked_by_them) {
    auto gossiping = [&](const std::string& name) {
        auto o = make_options(name);
        o.gossip = true;
        o.beacon_interval = 0ms;
        o.link_everyone_below = 0;
        if (!nodes_.empty()) o.seeds = {nodes_[0]->router_endpoint()};
        return o;
    };
    start(gossiping("g0"));
    auto& subscriber = start(gossiping("g1"));
    auto& publisher = start(gossiping("g2"));
    for (std::size_t i = 0; i < 3; ++i)
        ASSERT_TRUE(wait_until([&] { return joined_names(*nodes_[i]) == others(3, i); }, 15s)) << "g" << i;
    std::atomic<int> got{0};
    subscriber.subscribe("alerts.", [&got](const event&) { ++got; });
    EXPECT_TRUE(publisher.wait_for_subscribers("alerts.fire", 1, 10s));
    ASSERT_TRUE(wait_until([&] {
        (void)publisher.publish("alerts.fire", 1);
        return got.load() > 0;
    }, 10s));
    subscriber.stop();   // before `got` goes away
}

TEST_F(node_fixture, a_node_that_gossips_and_one_that_does_not_stay_members_of_one_mesh) {
    auto fast = [&](const std::string& name, bool gossip) {
        auto o = make_options(name);
        o.gossip = gossip;
        o.liveness.evasive = 1000ms;
        o.liveness.expired = 1500ms;
        return o;
    };
    auto& g = start(fast("gossiping", true));
    auto& p = start(fast("plain", false));
    ASSERT_TRUE(wait_until([&] { return joined_names(g) == std::vector<std::string>{"plain"}; }, 5s));
    ASSERT_TRUE(wait_until([&] { return joined_names(p) == std::vector<std::string>{"gossiping"}; }, 5s));
    // Longer than `expired` twice: the gossiping node's link carries no libzmq heartbeat, so
    // it pings the plain node, whose answers keep it a member.
    // (Waiting on a condition that must not come: a left event.)
    EXPECT_FALSE(wait_until([&] { return events(g).count(peer_event_kind::left, "plain") > 0 ||
                                         events(p).count(peer_event_kind::left, "gossiping") > 0; },
                            3500ms));
    EXPECT_EQ(joined_names(g), std::vector<std::string>{"plain"});
    EXPECT_EQ(joined_names(p), std::vector<std::string>{"gossiping"});
    EXPECT_EQ(events(g).count(peer_event_kind::left, "plain"), 0u);
    EXPECT_EQ(events(p).count(peer_event_kind::left, "gossiping"), 0u);
    EXPECT_GT(g.stats().pings_sent, 5u);
}

TEST_F(node_fixture, a_gossiping_joiner_learns_the_members_that_do_not_gossip) {
    // No beacons: each joiner knows one seed. Gossip's tables hold only members that gossip;
    // the plain one must still be named to the joiner, and the joiner to it.
    auto quiet = [&](const std::string& name, bool gossip, const std::string& seed) {
        auto o = make_options(name);
        o.gossip = gossip;
        o.beacon_interval = 0ms;
        if (!seed.empty()) o.seeds = {seed};
        return o;
    };
    auto& a = start(quiet("a", true, ""));
    auto& plain = start(quiet("plain", false, a.router_endpoint()));
    ASSERT_TRUE(wait_until([&] { return joined_names(a) == std::vector<std::string>{"plain"}; }, 5s));
    auto& b = start(quiet("b", true, a.router_endpoint()));
    EXPECT_TRUE(wait_until([&] { return joined_names(b) == std::vector<std::string>{"a", "plain"}; }, 10s))
        << "b sees " << joined_names(b).size();
    EXPECT_TRUE(wait_until([&] { return joined_names(plain) == std::vector<std::string>{"a", "b"}; }, 10s))
        << "plain sees " << joined_names(plain).size();
}

TEST_F(node_fixture, gossip_in_a_secured_mesh_is_refused_with_a_clear_error) {
    options o = make_options("secured");
    const auto pair = generate_keypair();
    o.secret_key = pair.secret_key;
    o.allowed_keys = {pair.public_key};
    o.mesh_secret = std::string(32, 's');
    ASSERT_EQ(validate(o), "");
    o.gossip = true;
    EXPECT_NE(validate(o).find("gossip"), std::string::npos) << validate(o);
    EXPECT_THROW(node{o}, std::invalid_argument);
}

}  // namespace
}  // namespace zmesh::test
