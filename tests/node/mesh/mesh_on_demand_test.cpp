// SPDX-License-Identifier: MPL-2.0
// Links on demand (PROTOCOL.md §16.5), without sockets: past options::link_everyone_below a
// node that gossips lists the members gossip finds without a link, links one when it sends it
// something (HELLO first), links back one that links it, refuses frames claiming one before
// its HELLO, drops one on gossip's word, closes links that stay idle, and, as a subscriber,
// links the members whose meta lists a prefix it takes.
#include "gossip_mesh_fixture.hpp"

#include <algorithm>

// In the fixture's namespace, whose names (clock, node_id, gossip_status) it uses.
namespace zmesh::detail::mesh_fakes {
namespace {

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
    // What `id` says in gossip: alive, at `port`, publishing under `prefixes`.
    static protocol::gossip_update publishing(const node_id& id, std::uint32_t incarnation, int port,
                                              std::vector<std::string> prefixes) {
        auto u = news(id, incarnation, gossip_status::alive, port);
        protocol::member_meta meta{"found", endpoint(port), endpoint(port + 1), false, {}, true};
        meta.publishes_listed = true;
        meta.publishes = std::move(prefixes);
        u.meta = protocol::encode_member_meta(meta);
        return u;
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

TEST_F(on_demand, a_push_pull_with_a_member_known_by_gossip_links_it_and_sends_the_table_after_our_hello) {
    // Anti-entropy: a table sent on no link was lost, so past a small mesh the full exchange
    // only ever ran between the few linked members.
    learn_through_a(found_, 300);
    ASSERT_FALSE(wire_.open.contains(found_));
    // Its partner is one of the two live members, at random, once a 30 s interval.
    std::vector<protocol::members> tables;
    for (int period = 0; period < 40 && tables.empty(); ++period) {
        run_acked(at(10) + period * 30s, at(10) + (period + 1) * 30s);
        for (const auto& t : wire_.to<protocol::members>(found_))
            if (t.reply_wanted) tables.push_back(t);
    }
    ASSERT_FALSE(tables.empty()) << "no push-pull with the unlinked member in 20 minutes";
    ASSERT_TRUE(wire_.open.contains(found_));
    EXPECT_EQ(stats_.sends_dropped, 0u);
    // On its new link our HELLO goes first: the table comes from a sender it knows.
    const auto first = std::find_if(wire_.sent.begin(), wire_.sent.end(), [&](const auto& s) { return s.to == found_; });
    ASSERT_NE(first, wire_.sent.end());
    EXPECT_TRUE(std::holds_alternative<protocol::hello>(first->msg));
    // The table holds both members and ourselves.
    std::size_t listed = 0;
    for (const auto& t : wire_.to<protocol::members>(found_)) listed += t.list.size();
    EXPECT_GE(listed, 3u);
}

TEST_F(on_demand, a_push_pull_with_a_member_that_cannot_be_linked_is_counted_dropped) {
    learn_through_a(found_, 300);
    wire_.refuse_links = true;
    for (int period = 0; period < 40 && stats_.sends_dropped == 0; ++period)
        run_acked(at(10) + period * 30s, at(10) + (period + 1) * 30s);
    EXPECT_GE(stats_.sends_dropped, 1u);
    EXPECT_TRUE(wire_.to<protocol::members>(found_).empty());
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
    m_.link_wanted(at(30));
    EXPECT_TRUE(wire_.open.contains(found_));
    EXPECT_TRUE(m_.table().find(found_)->linked);
}

TEST_F(on_demand, a_subscriber_links_only_the_members_that_may_publish_what_it_takes) {
    host_.events = true;   // it takes "orders."
    join(a_, 1, true, 100);
    const auto audit = node_id::random(), orders = node_id::random(), quiet = node_id::random(),
               unsaid = node_id::random();
    members_from(a_, 1,
                 {false,
                  {publishing(audit, 1, 300, {"audit."}), publishing(orders, 1, 310, {"orders."}),
                   publishing(quiet, 1, 320, {}), news(unsaid, 1, gossip_status::alive, 330)}},
                 10);
    EXPECT_FALSE(wire_.open.contains(audit));
    EXPECT_TRUE(wire_.open.contains(orders));
    EXPECT_FALSE(wire_.open.contains(quiet)) << "it publishes nothing";
    EXPECT_TRUE(wire_.open.contains(unsaid)) << "it does not say what it publishes: it may publish anything";
    m_.link_wanted(at(20));
    EXPECT_FALSE(wire_.open.contains(audit));
    // Its next incarnation publishes orders too: linked as the news comes.
    members_from(a_, 1, {false, {publishing(audit, 2, 300, {"audit.", "orders."})}}, 30);
    EXPECT_TRUE(wire_.open.contains(audit));
    ASSERT_NE(m_.table().find(audit), nullptr);
    EXPECT_TRUE(m_.table().find(audit)->linked);
    EXPECT_EQ(m_.table().find(audit)->publishes, (std::vector<std::string>{"audit.", "orders."}));
}

TEST_F(on_demand, a_new_subscription_links_the_members_that_publish_its_prefix) {
    join(a_, 1, true, 100);
    const auto orders = node_id::random(), audit = node_id::random();
    members_from(a_, 1, {false, {publishing(orders, 1, 300, {"orders."}), publishing(audit, 1, 310, {"audit."})}}, 10);
    EXPECT_FALSE(wire_.open.contains(orders)) << "it takes no events yet";
    host_.events = true;
    m_.link_wanted(at(20));
    EXPECT_TRUE(wire_.open.contains(orders));
    EXPECT_FALSE(wire_.open.contains(audit));
}

TEST_F(on_demand, the_link_to_a_member_whose_events_it_takes_is_never_idle) {
    opts_.idle_link = 1000ms;
    host_.events = true;   // found_ does not say what it publishes: its events are wanted
    link_found(30);
    run_acked(at(30), at(30) + 2500ms);
    ASSERT_NE(m_.table().find(found_), nullptr);
    EXPECT_TRUE(m_.table().find(found_)->linked) << "its events come on our SUB's connection, not on the link";
    host_.events = false;   // unsubscribed: the link is idle now
    run_acked(at(30) + 2500ms, at(30) + 4000ms);
    EXPECT_FALSE(m_.table().find(found_)->linked);
}

TEST_F(on_demand, its_own_meta_lists_what_it_publishes) {
    const auto meta_sent = [&] {
        // A newly linked member is sent our own update in MEMBERS.
        join(a_, 1, true, 100);
        for (const auto& s : wire_.sent)
            if (const auto* m = std::get_if<protocol::members>(&s.msg); m && s.to == a_)
                for (const auto& u : m->list)
                    if (u.id == self_) {
                        auto meta = protocol::decode_member_meta(
                            {reinterpret_cast<const std::uint8_t*>(u.meta.data()), u.meta.size()});
                        if (meta) return *meta;
                    }
        ADD_FAILURE() << "no MEMBERS with our own update";
        return protocol::member_meta{};
    };
    host_.publishes = std::vector<std::string>{"orders."};
    m_.publishes_changed();
    const auto meta = meta_sent();
    EXPECT_TRUE(meta.publishes_listed);
    EXPECT_EQ(meta.publishes, std::vector<std::string>{"orders."});
}

TEST_F(on_demand, a_small_mesh_links_everyone_and_a_large_one_dials_few_beaconers) {
    opts_.link_everyone_below = 4;
    learn_through_a(found_, 300);
    m_.on_timers(at(20));
    EXPECT_TRUE(wire_.open.contains(found_)) << "2 members: below the threshold";
    // Past it, each newcomer's beacon is dialled with a chance of 3 in the members known
    // (33 here, growing by each one dialled): 1,000 newcomers bring about 51 links (31 to 71
    // in 20,000 simulated runs), not 1,000. The bounds leave room for chance, none for
    // dialling every beaconer or none.
    opts_.link_everyone_below = 0;
    for (int i = 0; i < 30; ++i)
        members_from(a_, 1, {false, {news(node_id::random(), 1, gossip_status::alive, 1000 + 2 * i)}}, 30);
    const auto before = wire_.open.size();
    for (int i = 0; i < 1000; ++i) {
        m_.on_beacon(beacon_of(node_id::random(), static_cast<std::uint16_t>(10000 + 2 * i)), "10.0.0.2", at(40));
    }
    const auto dialled = wire_.open.size() - before;
    EXPECT_GT(dialled, 15u);
    EXPECT_LT(dialled, 120u);
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
}  // namespace zmesh::detail::mesh_fakes
