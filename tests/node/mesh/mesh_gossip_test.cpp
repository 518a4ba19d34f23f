// SPDX-License-Identifier: MPL-2.0
// mesh_gossip without sockets: members whose datagrams and MEMBERS tables are carried by
// recording wires, in simulated time — tables exchanged on linking, a member learned through
// another, a silent member declared dead, and every datagram that does not check out counted.
#include "fakes.hpp"
#include "node/mesh/mesh_gossip.hpp"

#include "protocol/gossip.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace zmesh::detail {
namespace {

using namespace std::chrono_literals;
using clock = mesh_gossip::clock;
using mesh_fakes::fake_wire;
using protocol::gossip_status;
using protocol::node_id;

// One member: its context, its recording wire and its gossip, at 127.0.0.1:(7000 + n).
struct member {
    explicit member(int n, std::size_t max_peers = 1024) {
        opts.mesh = "test";
        opts.name = "m" + std::to_string(n);
        opts.gossip = true;
        opts.max_peers = max_peers;
        self = meta_of(n);
        g.emplace(ctx, wire, self, 1, static_cast<std::uint64_t>(n) + 1);
        address = *discovery::udp_address_of(self.router_endpoint);
    }
    static protocol::member_meta meta_of(int n) {
        const auto port = std::to_string(7000 + n);
        return {"m" + std::to_string(n), "tcp://127.0.0.1:" + std::to_string(6000 + n),
                "tcp://127.0.0.1:" + port, false, {"echo"}, true};
    }
    // Returns: the last news of `id`, if any came since the last call to forget().
    std::optional<mesh_gossip::news> last_news_of(const node_id& of) {
        for (auto& n : g->take_news()) heard.push_back(std::move(n));
        std::optional<mesh_gossip::news> last;
        for (const auto& n : heard)
            if (n.id == of) last = n;
        return last;
    }

    options opts;
    node_id id = node_id::random();
    node_stats stats;
    node_context ctx{opts, id, stats};
    fake_wire wire;
    protocol::member_meta self;
    std::optional<mesh_gossip> g;
    discovery::udp_address address;
    std::vector<mesh_gossip::news> heard;
    bool down = false;   // killed: sends and takes nothing
};

// Members that reach each other: datagrams by address, MEMBERS on links, in simulated time.
class gossip_net : public ::testing::Test {
protected:
    member& add(std::size_t max_peers = 1024) {
        members_.push_back(std::make_unique<member>(static_cast<int>(members_.size()), max_peers));
        return *members_.back();
    }
    member* at_address(const discovery::udp_address& a) {
        for (auto& m : members_)
            if (m->address == a) return m.get();
        return nullptr;
    }
    member* with_id(const node_id& id) {
        for (auto& m : members_)
            if (m->id == id) return m.get();
        return nullptr;
    }
    // Two members link, as after a handshake: both sides open the link, one starts.
    void link(member& a, member& b) {
        a.wire.open[b.id] = 1;
        b.wire.open[a.id] = 1;
        a.g->linked(b.id);
        b.g->linked(a.id);   // each end joins the other
        deliver();
    }
    // Carries everything sent until nothing is left in flight.
    void deliver() {
        for (bool moved = true; moved;) {
            moved = false;
            for (auto& m : members_) {
                auto datagrams = std::exchange(m->wire.datagrams, {});
                auto sent = std::exchange(m->wire.sent, {});
                moved |= !datagrams.empty() || !sent.empty();
                if (m->down) continue;
                for (auto& d : datagrams)
                    if (auto* to = at_address(d.to); to && !to->down) to->g->on_datagram(d.bytes, m->address, now_);
                for (auto& s : sent)
                    if (auto* to = with_id(s.to); to && !to->down)
                        if (const auto* list = std::get_if<protocol::members>(&s.msg)) {
                            ++(list->reply_wanted ? tables_asking_ : tables_not_asking_);
                            to->g->on_members(m->id, *list, now_);
                        }
            }
        }
    }
    // Runs every member's timers for `d`, in 5 ms steps.
    void run(clock::duration d) {
        for (const auto end = now_ + d; now_ < end; now_ += 5ms) {
            for (auto& m : members_) {
                if (m->down) continue;
                m->g->on_timers(now_);
                // Here every member is linked: the mesh's part (linking one) is not needed.
                if (const auto partner = m->g->take_push_pull()) m->g->send_table(*partner, true);
            }
            deliver();
        }
    }

    std::vector<std::unique_ptr<member>> members_;
    clock::time_point now_ = clock::now();
    int tables_asking_ = 0, tables_not_asking_ = 0;   // MEMBERS carried
};

TEST_F(gossip_net, a_new_member_is_due_at_once_at_a_time_a_wait_can_be_computed_from) {
    auto& a = add();
    // The reactor sleeps until `next_deadline() - now`: the earliest time_point would overflow.
    EXPECT_NE(a.g->next_deadline(), clock::time_point::min());
    EXPECT_LE(a.g->next_deadline(), now_);
    a.g->on_timers(now_);
    EXPECT_GT(a.g->next_deadline(), now_);
}

TEST_F(gossip_net, linked_members_exchange_tables_and_learn_where_each_other_is) {
    auto& a = add();
    auto& b = add();
    link(a, b);
    const auto of_b = a.last_news_of(b.id);
    ASSERT_TRUE(of_b && of_b->meta);
    EXPECT_EQ(of_b->state, gossip_status::alive);
    EXPECT_EQ(*of_b->meta, b.self);
    const auto of_a = b.last_news_of(a.id);
    ASSERT_TRUE(of_a && of_a->meta);
    EXPECT_EQ(of_a->meta->name, "m0");
    EXPECT_EQ(a.g->live_members(), 1u);
}

TEST_F(gossip_net, a_member_is_learned_through_another_and_a_silent_one_is_declared_dead) {
    auto& a = add();
    auto& b = add();
    auto& c = add();
    link(a, b);
    link(b, c);   // b's answer to c carries a; c's table reaches b, and b's gossip reaches a
    run(3s);
    const auto c_at_a = a.last_news_of(c.id);
    ASSERT_TRUE(c_at_a && c_at_a->meta) << "a never heard of c";
    EXPECT_EQ(c_at_a->meta->router_endpoint, c.self.router_endpoint);
    EXPECT_EQ(a.g->live_members(), 2u);
    EXPECT_GT(a.stats.gossip_sent, 0u);
    EXPECT_GT(a.stats.gossip_received, 0u);

    c.down = true;   // as kill -9: silent from now on
    run(10s);
    for (member* m : {&a, &b}) {
        const auto of_c = m->last_news_of(c.id);
        ASSERT_TRUE(of_c);
        EXPECT_EQ(of_c->state, gossip_status::dead) << m->opts.name;
        EXPECT_EQ(m->g->live_members(), 1u);
    }
}

TEST_F(gossip_net, a_member_that_leaves_is_heard_leaving) {
    auto& a = add();
    auto& b = add();
    link(a, b);
    run(1s);
    b.g->leave();
    deliver();
    const auto of_b = a.last_news_of(b.id);
    ASSERT_TRUE(of_b);
    EXPECT_EQ(of_b->state, gossip_status::left);
}

TEST_F(gossip_net, datagrams_that_do_not_check_out_are_counted_and_change_nothing) {
    auto& a = add();
    auto& b = add();
    link(a, b);
    const auto before = a.g->live_members();
    const std::vector<std::uint8_t> garbage{'Z', 'M', 'G', 'S', 1, 1, 0xc1};
    a.g->on_datagram(garbage, b.address, now_);
    protocol::gossip_message ping;
    ping.target = a.id;
    a.g->on_datagram(protocol::encode_gossip({"other", b.id, ping}), b.address, now_);   // another mesh
    a.g->on_datagram(protocol::encode_gossip({"test", a.id, ping}), b.address, now_);    // ourselves
    EXPECT_EQ(a.stats.gossip_invalid, 3u);
    EXPECT_EQ(a.g->live_members(), before);
}

TEST_F(gossip_net, alive_news_of_nowhere_reachable_is_counted_not_passed_on) {
    auto& a = add();
    auto& b = add();
    link(a, b);
    (void)a.last_news_of(b.id);
    const auto stranger = node_id::random();
    auto meta = member::meta_of(9);
    meta.router_endpoint = "tcp://example.org:7009";   // a name: not resolved on the reactor
    protocol::members m;
    m.list.push_back({stranger, 5, gossip_status::alive, {}, protocol::encode_member_meta(meta)});
    m.list.push_back({node_id::random(), 5, gossip_status::alive, {}, "not msgpack"});
    a.g->on_members(b.id, m, now_);
    EXPECT_FALSE(a.last_news_of(stranger));
    EXPECT_EQ(a.stats.gossip_invalid, 2u);
}

TEST_F(gossip_net, forged_members_cannot_grow_the_table_past_max_peers) {
    auto& a = add(8);
    auto& b = add();
    link(a, b);
    protocol::members flood;
    for (int i = 0; i < 100; ++i)
        flood.list.push_back({node_id::random(), 1, gossip_status::alive, {},
                              protocol::encode_member_meta(member::meta_of(100 + i))});
    a.g->on_members(b.id, flood, now_);
    EXPECT_LE(a.g->live_members(), 8u);
}

TEST_F(gossip_net, a_table_larger_than_one_message_goes_in_chunks_and_asks_one_answer) {
    auto& a = add(4096);
    auto& b = add();
    protocol::members many;
    for (int i = 0; i < static_cast<int>(protocol::max_members_per_message) + 10; ++i)
        many.list.push_back({node_id::random(), 1, gossip_status::alive, {},
                             protocol::encode_member_meta(member::meta_of(100 + i))});
    a.wire.open[b.id] = 1;
    a.g->on_members(b.id, many, now_);   // b is not linked to it in this test: nothing answers
    a.wire.sent.clear();
    a.g->linked(b.id);   // a knows others: it tells b of itself, and asks for nothing
    auto sent = a.wire.to<protocol::members>(b.id);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_FALSE(sent[0].reply_wanted);
    ASSERT_EQ(sent[0].list.size(), 1u);
    EXPECT_EQ(sent[0].list[0].id, a.id);
    a.wire.sent.clear();
    a.g->on_members(b.id, protocol::members{true, {}}, now_);   // b asks for the table
    sent = a.wire.to<protocol::members>(b.id);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_FALSE(sent[0].reply_wanted || sent[1].reply_wanted);   // an answer asks for none
    EXPECT_EQ(sent[0].list.size() + sent[1].list.size(), many.list.size() + 1);   // and itself
}

TEST_F(gossip_net, every_push_pull_interval_a_member_sends_its_table_and_asks_for_the_answer) {
    auto& a = add();
    auto& b = add();
    link(a, b);
    EXPECT_EQ(tables_asking_, 2);   // on linking, each knows no other member: each asks
    EXPECT_EQ(tables_not_asking_, 2);
    run(65s);
    // Then each member once per 30 s interval, asking once and answered once.
    EXPECT_GE(tables_asking_, 4);
    EXPECT_LE(tables_asking_, 8);
    EXPECT_EQ(tables_not_asking_, tables_asking_);
}

TEST_F(gossip_net, a_member_beacons_less_often_as_the_mesh_grows_so_the_mesh_beacons_as_one) {
    auto& a = add();
    EXPECT_EQ(a.g->beacon_interval(1s), clock::duration(1s));   // alone: as a node alone
    for (int i = 0; i < 9; ++i) link(a, add());
    ASSERT_EQ(a.g->live_members(), 9u);
    clock::duration total{};
    for (int i = 0; i < 1000; ++i) {
        const auto d = a.g->beacon_interval(1s);
        EXPECT_GE(d, 5s);    // 10 members, jittered by half at most
        EXPECT_LE(d, 15s);
        total += d;
    }
    // On average each of 10 beacons every 10 s: the mesh, once a second.
    EXPECT_NEAR(std::chrono::duration<double>(total / 1000).count(), 10.0, 0.5);
}

}  // namespace
}  // namespace zmesh::detail
