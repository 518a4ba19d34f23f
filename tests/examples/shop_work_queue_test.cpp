// SPDX-License-Identifier: MPL-2.0
// The orders/inventory example's work queue, end to end with real processes: orders placed
// while no inventory runs are stored and decided once one comes back; an inventory killed -9
// while orders flow leaves no order undecided; orders killed -9 and restarted on its data
// directory hands nothing already decided out again, and new orders flow.
#include "shop_fixture.hpp"

#include <csignal>
#include <cstdio>

namespace zmesh::test {
namespace {

const std::string inventory_stock = "apple=200,pear=200,plum=200";
constexpr int held_per_instance = 3 * 200;

// The orders an inventory was handed from the stream, as its own report counts them.
std::uint64_t handled(const shop::stock_report& r) { return r.reserved_orders + r.rejected_orders + r.repeats; }

class shop_work_queue : public shop_fixture {
protected:
    // Starts orders on this test's data directory and waits until the client can call it.
    process& start_orders() {
        auto& p = spawn_orders();
        EXPECT_TRUE(p.wait_for_line("ready ", 10s)) << p.err();
        EXPECT_TRUE(wait_until([&] { return providers("orders.place") == 1; }, 15s)) << "orders not joined";
        return p;
    }
    // Waits until `name` has sent the settle of every order it was handed, as its last
    // reports to the client say, and they have said so for a while: a kill -9 of orders
    // after that loses no acknowledgement in flight.
    bool acks_sent(const std::string& name) {
        const auto never = std::chrono::steady_clock::time_point::max();
        auto since = never;
        return wait_until([&] {
            const auto s = stock(name);
            const auto now = std::chrono::steady_clock::now();
            const bool sent = s && reported(name, "stream_settles_sent") == handled(*s) &&
                              reported(name, "stream_delivered") == handled(*s);
            since = !sent ? never : std::min(since, now);
            return sent && now - since > 500ms;
        }, 15s, 50ms);
    }
};

TEST_F(shop_work_queue, orders_placed_with_no_inventory_are_decided_once_each_through_crashes_and_a_restart) {
    start_client_node();
    auto* orders = &start_orders();

    // 1. No inventory runs: every order is still taken, stored, and waits.
    const auto first = place(50);
    ASSERT_EQ(first.size(), 50u);
    EXPECT_EQ(first.front(), 1u);
    EXPECT_EQ(first.back(), 50u);
    auto s = summary();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->total, 50u);
    EXPECT_EQ(s->pending, 50u);

    // 2. Two inventories come: the 50 are decided, each by one instance, once.
    auto& inv_a = spawn_inventory("inv-a", inventory_stock);
    auto& inv_b = spawn_inventory("inv-b", inventory_stock);
    for (auto* p : {&inv_a, &inv_b}) ASSERT_TRUE(p->wait_for_line("ready ", 10s)) << p->err();
    s = settled_summary(20s);
    ASSERT_TRUE(s) << "the stored orders were not all decided";
    EXPECT_EQ(s->total, 50u);
    EXPECT_EQ(s->reserved + s->rejected, 50u);
    EXPECT_EQ(s->repeats, 0u);
    ASSERT_TRUE(wait_until([&] { return heard_.decided(1, 50) == 50; }, 10s));
    for (const auto& [id, by] : heard_.by()) EXPECT_EQ(by.size(), 1u) << "order " << id << " decided twice";
    ASSERT_TRUE(wait_until([&] { return providers("inventory.stock") == 2; }, 10s));
    const auto a1 = stock("inv-a"), b1 = stock("inv-b");
    ASSERT_TRUE(a1 && b1);
    EXPECT_EQ(handled(*a1) + handled(*b1), 50u);
    std::printf("backlog: 50 orders stored with no inventory, then inv-a decided %llu, inv-b %llu\n",
                static_cast<unsigned long long>(handled(*a1)), static_cast<unsigned long long>(handled(*b1)));

    // 3. While 100 more flow, the instance that decided the latest one is killed -9.
    std::string victim, survivor;
    const auto second = place(100, 10, [&](int i) {
        if (i != 40) return;
        const auto by = heard_.by();
        victim = *by.rbegin()->second.begin();
        survivor = victim == "inv-a" ? "inv-b" : "inv-a";
        ::kill((victim == "inv-a" ? inv_a : inv_b).pid(), SIGKILL);
    });
    ASSERT_EQ(second.size(), 100u);
    EXPECT_EQ(second.back(), 150u);
    s = settled_summary(30s);
    ASSERT_TRUE(s) << "orders left undecided after " << victim << " died";
    EXPECT_EQ(s->total, 150u);
    EXPECT_EQ(s->reserved + s->rejected, 150u);
    ASSERT_TRUE(wait_until([&] { return heard_.decided(1, 150) == 150; }, 10s));
    // An order the victim decided but could not acknowledge went to the survivor, which
    // decided it too: orders kept the first decision. No other order has two.
    std::size_t twice = 0;
    for (const auto& [id, by] : heard_.by())
        if (by.size() > 1) {
            ++twice;
            EXPECT_TRUE(by.count(victim)) << "order " << id << " decided by two live instances";
        }
    const auto after_kill = stock(survivor);
    ASSERT_TRUE(after_kill);
    std::int64_t left = 0;
    for (const auto& [item, qty] : after_kill->left) {
        EXPECT_GE(qty, 0) << item;
        left += qty;
    }
    EXPECT_EQ(left + after_kill->reserved_qty, held_per_instance);
    std::printf("%s killed -9 after order 40 of 100: 150 decided (%llu reserved, %llu rejected), "
                "%zu decided by both (the victim's, unacknowledged), %llu decisions heard again\n",
                victim.c_str(), static_cast<unsigned long long>(s->reserved),
                static_cast<unsigned long long>(s->rejected), twice, static_cast<unsigned long long>(s->repeats));

    // 4. orders killed -9 and restarted on its directory: ids go on, nothing decided comes again.
    ASSERT_TRUE(acks_sent(survivor)) << "the survivor's acknowledgements did not all leave";
    const auto before_restart = stock(survivor);
    ASSERT_TRUE(before_restart);
    const auto decided_before = heard_.by();
    orders->signal(SIGKILL);
    ASSERT_TRUE(orders->wait(10s));
    ASSERT_TRUE(wait_until([&] { return providers("orders.place") == 0; }, 20s)) << "orders never seen gone";
    orders = &start_orders();
    const auto third = place(30);
    ASSERT_EQ(third.size(), 30u);
    EXPECT_EQ(third.front(), 151u) << "a restarted orders service must not reuse ids";
    s = settled_summary(30s);
    ASSERT_TRUE(s) << "new orders were not decided after the restart";
    EXPECT_EQ(s->total, 30u);   // the book is this run's: the stream is what survives
    EXPECT_EQ(s->reserved + s->rejected, 30u);
    const auto after_restart = stock(survivor);
    ASSERT_TRUE(after_restart);
    EXPECT_EQ(handled(*after_restart), handled(*before_restart) + 30) << "an order decided before was handed again";
    EXPECT_EQ(after_restart->repeats, before_restart->repeats);
    ASSERT_TRUE(wait_until([&] { return heard_.decided(151, 180) == 30; }, 10s));
    const auto decided_after = heard_.by();
    for (const auto& [id, by] : decided_before) EXPECT_EQ(decided_after.at(id), by) << "order " << id;
    std::printf("orders killed -9 and restarted: ids went on at %llu, 30 new orders decided, none of the "
                "150 before handed out again\n", static_cast<unsigned long long>(third.front()));

    for (auto* p : {orders, victim == "inv-a" ? &inv_b : &inv_a}) {
        p->signal(SIGTERM);
        EXPECT_EQ(p->wait(10s), std::optional<int>(0)) << p->err();
    }
}

}  // namespace
}  // namespace zmesh::test
