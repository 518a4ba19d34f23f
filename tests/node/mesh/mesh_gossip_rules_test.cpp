// SPDX-License-Identifier: MPL-2.0
// The mesh of a node that gossips, without sockets: it says so in its HELLO, exchanges
// MEMBERS with members that gossip and PEERS with the others, dials the members gossip finds,
// doubts (never drops on hearsay) the ones gossip calls dead, and judges the peers that do
// not gossip by their silence, its links carrying no libzmq heartbeat.
#include "fakes.hpp"
#include "node/mesh/mesh.hpp"
#include "protocol/gossip.hpp"

#include <gtest/gtest.h>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;
using clock = mesh::clock;
using mesh_fakes::fake_host;
using mesh_fakes::fake_wire;
using protocol::gossip_status;
using protocol::node_id;

class gossip_mesh : public ::testing::Test {
protected:
    gossip_mesh() { m_.advertise("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"); }

    static options gossip_options() {
        options o;
        o.mesh = "test";
        o.name = "self";
        o.gossip = true;
        return o;
    }
    clock::time_point at(int ms) const { return t0_ + std::chrono::milliseconds(ms); }
    static std::string endpoint(int port) { return "tcp://10.0.0.1:" + std::to_string(port); }

    // Makes `id` a joined member by its HELLO (as a newcomer), gossiping or not.
    void join(const node_id& id, std::uint64_t token, bool gossips, int port) {
        protocol::hello h;
        h.mesh = "test";
        h.id = id;
        h.name = "peer-" + id.short_hex();
        h.pub_endpoint = endpoint(port);
        h.router_endpoint = endpoint(port + 1);
        h.token = token;
        h.flags = protocol::hello_flag_call_links | (gossips ? protocol::hello_flag_gossip : 0);
        protocol::control msg = h;
        m_.on_control(protocol::sender_route{id, false, token}, msg, at(0));
        ASSERT_EQ(m_.table().find(id)->state, discovery::peer_state::joined);
        // A member that gossips answers our table with its own, itself in it.
        if (gossips) members_from(id, token, {false, {news(id, 1, gossip_status::alive, port)}}, 0);
    }
    void members_from(const node_id& from, std::uint64_t token, protocol::members m, int ms) {
        protocol::control msg = std::move(m);
        m_.on_control(protocol::sender_route{from, false, token}, msg, at(ms));
    }
    static protocol::gossip_update news(const node_id& id, std::uint32_t incarnation, gossip_status s,
                                        int port = 0) {
        protocol::gossip_update u{id, incarnation, s, {}, {}};
        if (s == gossip_status::alive)
            u.meta = protocol::encode_member_meta({"found", endpoint(port), endpoint(port + 1), false, {}, true});
        return u;
    }

    options opts_ = gossip_options();
    node_id self_ = node_id::random();
    node_stats stats_;
    node_context ctx_{opts_, self_, stats_};
    fake_wire wire_;
    fake_host host_;
    mesh m_{ctx_, wire_, host_};
    clock::time_point t0_ = clock::now();
    node_id a_ = node_id::random(), b_ = node_id::random();
};

TEST_F(gossip_mesh, its_hello_says_it_gossips_and_gossiping_members_get_members_and_peers_of_the_rest) {
    ASSERT_TRUE(m_.gossips());
    join(a_, 1, true, 100);
    join(b_, 2, true, 200);
    ASSERT_FALSE(wire_.to<protocol::hello>(a_).empty());
    EXPECT_TRUE(wire_.to<protocol::hello>(a_)[0].flags & protocol::hello_flag_gossip);
    EXPECT_TRUE(wire_.to<protocol::peers>(b_).empty()) << "every member known gossips";
    // Each is told of us; only the first is asked for its table (we knew nobody then).
    ASSERT_EQ(wire_.to<protocol::members>(a_).size(), 1u);
    EXPECT_TRUE(wire_.to<protocol::members>(a_)[0].reply_wanted);
    const auto tables = wire_.to<protocol::members>(b_);
    ASSERT_EQ(tables.size(), 1u);
    EXPECT_FALSE(tables[0].reply_wanted);
    ASSERT_EQ(tables[0].list.size(), 1u);
    EXPECT_EQ(tables[0].list[0].id, self_);
    // Between members that gossip, PEERS names the members that do not: gossip never does.
    const auto plain = node_id::random();
    protocol::control list = protocol::peers{{{plain, "x", endpoint(900), endpoint(901)}}};
    m_.on_control(protocol::sender_route{b_, false, 2}, list, at(5));
    EXPECT_TRUE(wire_.open.contains(plain));
    join(plain, 3, false, 300);
    const auto c = node_id::random();
    join(c, 4, true, 400);
    const auto named = wire_.to<protocol::peers>(c);
    ASSERT_EQ(named.size(), 1u);
    ASSERT_EQ(named[0].list.size(), 1u) << "only the member that does not gossip";
    EXPECT_EQ(named[0].list[0].id, plain);
}

TEST_F(gossip_mesh, a_member_that_does_not_gossip_gets_peers_and_its_members_are_refused) {
    join(a_, 1, true, 100);
    join(b_, 2, false, 200);
    EXPECT_EQ(wire_.to<protocol::peers>(b_).size(), 1u);
    EXPECT_TRUE(wire_.to<protocol::members>(b_).empty());
    members_from(b_, 2, {false, {news(node_id::random(), 1, gossip_status::alive, 300)}}, 10);
    EXPECT_EQ(stats_.frames_invalid, 1u);
}

TEST_F(gossip_mesh, a_member_gossip_finds_is_dialled) {
    join(a_, 1, true, 100);
    const auto found = node_id::random();
    members_from(a_, 1, {false, {news(found, 3, gossip_status::alive, 300)}}, 10);
    EXPECT_TRUE(wire_.open.contains(found));
    ASSERT_NE(m_.table().find(found), nullptr);
    EXPECT_EQ(m_.table().find(found)->router_endpoint, endpoint(301));
}

TEST_F(gossip_mesh, a_member_gossip_calls_dead_is_asked_and_stays_when_it_answers) {
    join(a_, 1, true, 100);
    join(b_, 2, true, 200);
    const auto pings_before = wire_.to<protocol::ping>(b_).size();
    members_from(a_, 1, {false, {news(b_, 1u << 31, gossip_status::dead)}}, 10);
    EXPECT_EQ(m_.table().find(b_)->state, discovery::peer_state::evasive);
    EXPECT_EQ(wire_.to<protocol::ping>(b_).size(), pings_before + 1);   // asked directly
    protocol::control pong = protocol::pong{0};
    m_.on_control(protocol::sender_route{b_, false, 2}, pong, at(20));
    EXPECT_EQ(m_.table().find(b_)->state, discovery::peer_state::joined);
    m_.on_timers(at(20) + opts_.liveness.evasive * 2);
    EXPECT_NE(m_.table().find(b_), nullptr);
}

TEST_F(gossip_mesh, a_member_gossip_calls_dead_that_stays_silent_leaves) {
    join(a_, 1, true, 100);
    join(b_, 2, true, 200);
    members_from(a_, 1, {false, {news(b_, 1u << 31, gossip_status::left)}}, 10);
    m_.on_timers(at(10) + opts_.liveness.evasive / 2);
    EXPECT_NE(m_.table().find(b_), nullptr);   // its link is up: not before its time
    m_.on_timers(at(11) + opts_.liveness.evasive);
    EXPECT_EQ(m_.table().find(b_), nullptr);
    EXPECT_TRUE(wire_.open.contains(a_));
    EXPECT_FALSE(wire_.open.contains(b_));
}

TEST_F(gossip_mesh, a_peer_that_does_not_gossip_is_pinged_and_judged_by_its_silence) {
    join(b_, 2, false, 200);
    m_.on_link_event(b_, link_event::up, at(1));
    for (int ms = 0; ms <= 3 * static_cast<int>(opts_.liveness.heartbeat.count()); ms += 10) m_.on_timers(at(ms));
    EXPECT_GE(wire_.to<protocol::ping>(b_).size(), 3u);
    // Its link is up, but no libzmq heartbeat vouches for it: silence counts.
    for (auto t = at(0); t <= at(0) + opts_.liveness.expired + 200ms; t += 50ms) m_.on_timers(t);
    EXPECT_EQ(m_.table().find(b_), nullptr);
}

TEST_F(gossip_mesh, a_member_that_gossips_is_judged_by_its_acks_not_by_silence_on_its_link) {
    join(a_, 1, true, 100);
    m_.on_link_event(a_, link_event::up, at(1));
    const auto a_gossip = *discovery::udp_address_of(endpoint(101));
    // Runs the timers to `until`, `a_` acking every probe of ours while `acks`.
    auto run = [&](clock::time_point from, clock::time_point until, bool acks) {
        for (auto t = from; t <= until; t += 10ms) {
            m_.on_timers(t);
            for (const auto& d : std::exchange(wire_.datagrams, {})) {
                const auto probe = protocol::decode_gossip(d.bytes);
                if (!acks || !probe || !(d.to == a_gossip) || probe->message.type != protocol::gossip_kind::ping) continue;
                protocol::gossip_message ack;
                ack.type = protocol::gossip_kind::ack;
                ack.seq = probe->message.seq;
                ack.target = a_;
                m_.on_gossip(protocol::encode_gossip({"test", a_, ack}), a_gossip, t);
            }
        }
    };
    // No traffic on its link for longer than `expired`, but it answers gossip: it stays.
    run(at(0), at(0) + opts_.liveness.expired * 2, true);
    ASSERT_NE(m_.table().find(a_), nullptr);
    EXPECT_EQ(m_.table().find(a_)->state, discovery::peer_state::joined);
    EXPECT_GT(stats_.gossip_sent, 0u);
    EXPECT_GT(stats_.gossip_received, 0u);
    // It stops answering (a frozen process, its link still up): gossip finds it dead, and it
    // does not answer our ping either.
    const auto start = at(0) + opts_.liveness.expired * 2;
    run(start, start + 15s, false);
    EXPECT_EQ(m_.table().find(a_), nullptr);
}

// Past options::link_everyone_below: links on demand (PROTOCOL.md §16.5).
class on_demand : public gossip_mesh {
protected:
    on_demand() { opts_.link_everyone_below = 0; }

    // Makes `found` known by gossip alone, through `a_` (a linked member that gossips).
    void learn_through_a(const node_id& found, int port) {
        join(a_, 1, true, 100);
        members_from(a_, 1, {false, {news(found, 3, gossip_status::alive, port)}}, 10);
    }
    // A HELLO of `id` at `port`, with `token` and echoing `echo`.
    static protocol::hello hello_of(const node_id& id, int port, std::uint64_t token, std::uint64_t echo) {
        protocol::hello h;
        h.mesh = "test";
        h.id = id;
        h.name = "found";
        h.pub_endpoint = endpoint(port);
        h.router_endpoint = endpoint(port + 1);
        h.token = token;
        h.echo = echo;
        h.flags = protocol::hello_flag_call_links | protocol::hello_flag_gossip;
        return h;
    }
    // Runs the timers from `from` to `until`, found_ acking every probe of ours.
    void run_acked(clock::time_point from, clock::time_point until) {
        const auto found_gossip = *discovery::udp_address_of(endpoint(301));
        for (auto t = from; t <= until; t += 10ms) {
            m_.on_timers(t);
            for (const auto& d : std::exchange(wire_.datagrams, {})) {
                const auto probe = protocol::decode_gossip(d.bytes);
                if (!probe || !(d.to == found_gossip) || probe->message.type != protocol::gossip_kind::ping) continue;
                protocol::gossip_message ack;
                ack.type = protocol::gossip_kind::ack;
                ack.seq = probe->message.seq;
                ack.target = found_;
                m_.on_gossip(protocol::encode_gossip({"test", found_, ack}), found_gossip, t);
            }
        }
    }
    // Learns found_ (at port 300) by gossip, links it by sending it a frame, and has its
    // answer (token 77) and its link come up, all by `ms`.
    void link_found(int ms) {
        learn_through_a(found_, 300);
        zmq::message_t request(8);
        ASSERT_TRUE(m_.send_on_link(found_, request));
        protocol::control answer = hello_of(found_, 300, 77, wire_.open[found_]);
        m_.on_control(protocol::sender_route{found_, false, 77}, answer, at(ms));
        m_.on_link_event(found_, link_event::up, at(ms));
    }
    node_id found_ = node_id::random();
};

TEST_F(on_demand, a_member_gossip_finds_is_listed_joined_without_a_link) {
    learn_through_a(found_, 300);
    const auto* p = m_.table().find(found_);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->state, discovery::peer_state::joined);
    EXPECT_FALSE(p->linked);
    EXPECT_EQ(p->router_endpoint, endpoint(301));
    EXPECT_FALSE(wire_.open.contains(found_));
    EXPECT_EQ(host_.count(discovery::change_kind::joined), 2) << "a_ and the member gossip found";
    // Its silence on a link it does not have counts for nothing: gossip judges it, and it
    // answers gossip's probes here.
    opts_.idle_link = 0ms;
    run_acked(at(10), at(10) + opts_.liveness.expired * 2);
    ASSERT_NE(m_.table().find(found_), nullptr);
    EXPECT_FALSE(m_.table().find(found_)->linked);
    EXPECT_TRUE(wire_.to<protocol::ping>(found_).empty());
    for (const auto& c : host_.changes) EXPECT_FALSE(c.snapshot.id == found_ && c.kind != discovery::change_kind::joined);
}

TEST_F(on_demand, sending_to_a_member_known_by_gossip_links_it_with_our_hello_first) {
    learn_through_a(found_, 300);
    zmq::message_t request(8);
    EXPECT_TRUE(m_.send_on_link(found_, request));
    ASSERT_TRUE(wire_.open.contains(found_));
    const auto hellos = wire_.to<protocol::hello>(found_);
    ASSERT_EQ(hellos.size(), 1u);
    EXPECT_TRUE(hellos[0].flags & protocol::hello_flag_want_reply);
    EXPECT_EQ(hellos[0].token, wire_.open[found_]);
    EXPECT_EQ(host_.linked, std::vector<node_id>{found_});
    // Its answer quotes our token: its link is known, and its frames are taken.
    protocol::control answer = hello_of(found_, 300, 77, wire_.open[found_]);
    m_.on_control(protocol::sender_route{found_, false, 77}, answer, at(20));
    EXPECT_TRUE(m_.table().find(found_)->heard_hello);
    EXPECT_NE(m_.known_sender(protocol::sender_route{found_, false, 77}, at(21)), nullptr);
    EXPECT_EQ(m_.known_sender(protocol::sender_route{found_, false, 78}, at(21)), nullptr);
}

TEST_F(on_demand, a_member_known_by_gossip_that_links_us_is_linked_back_and_its_frames_taken) {
    learn_through_a(found_, 300);
    protocol::control h = hello_of(found_, 300, 55, 0);
    m_.on_control(protocol::sender_route{found_, false, 55}, h, at(20));
    ASSERT_TRUE(wire_.open.contains(found_));
    const auto hellos = wire_.to<protocol::hello>(found_);
    ASSERT_EQ(hellos.size(), 1u);
    EXPECT_EQ(hellos[0].echo, 55u) << "ours answers its";
    EXPECT_FALSE(hellos[0].flags & protocol::hello_flag_want_reply);
    EXPECT_NE(m_.known_sender(protocol::sender_route{found_, false, 55}, at(21)), nullptr);
    EXPECT_EQ(host_.count(discovery::change_kind::joined), 2) << "linking is no second join";
    EXPECT_TRUE(wire_.to<protocol::members>(found_).empty()) << "both gossip already";
}

TEST_F(on_demand, one_talking_on_a_link_we_do_not_know_is_linked_and_asked_until_it_answers) {
    // Dropped on gossip's word and learnt again, its link to us carried on: we know it by
    // gossip alone, and it has no cause to send a HELLO.
    learn_through_a(found_, 300);
    const auto unknown = stats_.frames_unknown_sender;
    protocol::control ping = protocol::ping{1};
    m_.on_control(protocol::sender_route{found_, false, 55}, ping, at(20));
    m_.on_control(protocol::sender_route{found_, false, 55}, ping, at(21));
    EXPECT_EQ(stats_.frames_unknown_sender, unknown + 2) << "refused until its HELLO";
    ASSERT_TRUE(wire_.open.contains(found_));
    ASSERT_EQ(wire_.to<protocol::hello>(found_).size(), 1u);
    EXPECT_TRUE(wire_.to<protocol::hello>(found_)[0].flags & protocol::hello_flag_want_reply);
    // No answer yet: asked again with the heartbeats.
    m_.on_timers(at(21) + opts_.liveness.heartbeat * 2);
    EXPECT_GE(wire_.to<protocol::hello>(found_).size(), 2u);
    protocol::control answer = hello_of(found_, 300, 55, wire_.open[found_]);
    m_.on_control(protocol::sender_route{found_, false, 55}, answer, at(600));
    m_.on_control(protocol::sender_route{found_, false, 55}, ping, at(601));
    EXPECT_EQ(wire_.to<protocol::pong>(found_).size(), 1u) << "its frames are taken now";
}

TEST_F(on_demand, a_member_known_by_gossip_alone_leaves_on_gossips_word) {
    learn_through_a(found_, 300);
    members_from(a_, 1, {false, {news(found_, 3, gossip_status::dead)}}, 20);
    EXPECT_EQ(m_.table().find(found_), nullptr) << "no link to ask it on";
    ASSERT_EQ(host_.count(discovery::change_kind::left), 1);
    EXPECT_EQ(host_.changes.back().reason, discovery::leave_reason::expired);
}

TEST_F(on_demand, its_new_incarnation_brings_what_it_serves_now) {
    learn_through_a(found_, 300);
    const auto version = m_.table().version();
    auto update = news(found_, 4, gossip_status::alive, 300);
    update.meta = protocol::encode_member_meta({"found", endpoint(300), endpoint(301), false, {"time", "echo"}, true});
    members_from(a_, 1, {false, {update}}, 20);
    EXPECT_EQ(m_.table().find(found_)->services, (std::vector<std::string>{"echo", "time"}));
    EXPECT_GT(m_.table().version(), version) << "providers are looked up again";
}

TEST_F(on_demand, a_node_that_takes_events_links_every_member) {
    learn_through_a(found_, 300);
    const auto other = node_id::random();
    host_.events = true;
    members_from(a_, 1, {false, {news(other, 1, gossip_status::alive, 400)}}, 20);
    EXPECT_TRUE(wire_.open.contains(other)) << "dialled as it is found";
    EXPECT_FALSE(wire_.open.contains(found_));
    m_.link_everyone_if_wanted(at(30));
    EXPECT_TRUE(wire_.open.contains(found_));
    EXPECT_TRUE(m_.table().find(found_)->linked);
}

TEST_F(on_demand, a_small_mesh_links_everyone_and_a_large_one_dials_few_beaconers) {
    opts_.link_everyone_below = 4;
    learn_through_a(found_, 300);
    m_.on_timers(at(20));
    EXPECT_TRUE(wire_.open.contains(found_)) << "2 members: below the threshold";
    // Past it, each newcomer's beacon is dialled with a chance of about 3 in the members
    // known: 1,000 newcomers bring a few dozen links at most, not 1,000.
    opts_.link_everyone_below = 0;
    for (int i = 0; i < 30; ++i)
        members_from(a_, 1, {false, {news(node_id::random(), 1, gossip_status::alive, 1000 + 2 * i)}}, 30);
    const auto before = wire_.open.size();
    for (int i = 0; i < 1000; ++i) {
        protocol::beacon b;
        b.id = node_id::random();
        b.name = "newcomer";
        b.mesh = "test";
        b.pub_port = static_cast<std::uint16_t>(10000 + 2 * i);
        b.router_port = static_cast<std::uint16_t>(10001 + 2 * i);
        m_.on_beacon(b, "10.0.0.2", at(40));
    }
    const auto dialled = wire_.open.size() - before;
    EXPECT_GT(dialled, 0u);
    EXPECT_LT(dialled, 60u);
}

TEST_F(on_demand, a_link_quiet_for_idle_link_is_closed_and_its_member_stays) {
    opts_.idle_link = 1000ms;
    link_found(30);
    run_acked(at(30), at(30) + 900ms);
    EXPECT_TRUE(m_.table().find(found_)->linked) << "not idle yet";
    run_acked(at(30) + 900ms, at(30) + 2500ms);
    const auto* p = m_.table().find(found_);
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE(p->linked);
    EXPECT_EQ(p->state, discovery::peer_state::joined);
    EXPECT_FALSE(wire_.open.contains(found_));
    EXPECT_EQ(std::count(host_.unlinked.begin(), host_.unlinked.end(), found_), 1);
    EXPECT_EQ(stats_.links_idle_closed, 1u);
    // Its own link to us carries on: its frames are still taken.
    EXPECT_NE(m_.known_sender(protocol::sender_route{found_, false, 77}, at(30) + 2500ms), nullptr);
    // Needed again, it is linked again, our HELLO quoting its token so that it believes it.
    zmq::message_t request(8);
    EXPECT_TRUE(m_.send_on_link(found_, request));
    ASSERT_TRUE(wire_.open.contains(found_));
    EXPECT_EQ(wire_.to<protocol::hello>(found_).back().echo, 77u);
    EXPECT_EQ(stats_.links_on_demand, 2u);
}

TEST_F(on_demand, a_link_in_use_or_awaiting_a_reply_stays_open) {
    opts_.idle_link = 1000ms;
    link_found(30);
    host_.awaiting.insert(found_);   // a call's reply is due on it
    run_acked(at(30), at(30) + 2500ms);
    EXPECT_TRUE(m_.table().find(found_)->linked);
    host_.awaiting.clear();
    // Traffic from it every 500 ms: never a second of quiet.
    for (int ms = 2600; ms <= 5000; ms += 500) {
        protocol::control pong = protocol::pong{0};
        m_.on_control(protocol::sender_route{found_, false, 77}, pong, at(30 + ms));
        run_acked(at(30 + ms), at(30 + ms + 490));
    }
    EXPECT_TRUE(m_.table().find(found_)->linked);
    EXPECT_EQ(stats_.links_idle_closed, 0u);
}

}  // namespace
}  // namespace zmesh::detail
