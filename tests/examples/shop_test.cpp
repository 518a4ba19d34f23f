// SPDX-License-Identifier: MPL-2.0
// The orders/inventory example, end to end: one orders process and two inventory processes;
// 1,000 orders placed from an in-process client while one inventory is killed -9 part way.
// Every order must end reserved or rejected, and no warehouse may hand out more than it holds.
#include "shop_fixture.hpp"

#include <csignal>
#include <cstdio>

namespace zmesh::test {
namespace {

constexpr std::int64_t stock_per_item = 400;   // per instance: 2 x 3 x 400 = 2,400 units
constexpr int orders_to_place = 1000;          // ~2,000 units asked: some must be rejected

using shop_example = shop_fixture;

TEST_F(shop_example, every_order_ends_final_and_stock_never_goes_negative_through_a_failover) {
    const std::string stock_flag = "apple=400,pear=400,plum=400";
    static_assert(stock_per_item == 400);
    start_client_node();
    auto& orders = spawn_orders();
    auto& inv_a = spawn_inventory("inv-a", stock_flag);
    auto& inv_b = spawn_inventory("inv-b", stock_flag);
    for (auto* p : {&orders, &inv_a, &inv_b}) ASSERT_TRUE(p->wait_for_line("ready ", 10s)) << p->err();
    ASSERT_TRUE(wait_until([&] {
        return providers("orders.place") == 1 && providers("inventory.stock") == 2;
    }, 10s));

    std::uint64_t a_before_kill = 0;
    const auto placed = place(orders_to_place, 50, [&](int i) {
        if (i != orders_to_place * 2 / 5) return;
        // Everything so far decided, then inv-b dies while the rest flow.
        auto t = settled_summary(20s);
        ASSERT_TRUE(t) << "orders still pending before the kill";
        a_before_kill = t->reserved_by["inv-a"];
        ::kill(inv_b.pid(), SIGKILL);
    });
    EXPECT_EQ(placed.size(), static_cast<std::size_t>(orders_to_place));

    auto s = settled_summary(30s);
    ASSERT_TRUE(s) << "orders still pending";
    EXPECT_EQ(s->total, static_cast<std::uint64_t>(orders_to_place));
    EXPECT_EQ(s->reserved + s->rejected, s->total);
    EXPECT_GT(s->rejected, 0u) << "demand exceeded supply: some orders must be rejected";
    EXPECT_GT(s->reserved_by["inv-a"], a_before_kill) << "the survivor took no orders after the kill";
    std::printf("orders: %llu reserved (inv-a %llu, inv-b %llu), %llu rejected, %llu decisions heard again\n",
                static_cast<unsigned long long>(s->reserved), static_cast<unsigned long long>(s->reserved_by["inv-a"]),
                static_cast<unsigned long long>(s->reserved_by["inv-b"]), static_cast<unsigned long long>(s->rejected),
                static_cast<unsigned long long>(s->repeats));

    // The survivor: never below zero, and its books add up.
    const auto a = stock("inv-a");
    ASSERT_TRUE(a);
    std::int64_t left = 0;
    for (const auto& [item, qty] : a->left) {
        EXPECT_GE(qty, 0) << item;
        left += qty;
    }
    EXPECT_EQ(left + a->reserved_qty, 3 * stock_per_item);
    EXPECT_GE(a->reserved_orders, s->reserved_by["inv-a"]);
    // The rest went to inv-b before it died; every order reserved was reserved by someone.
    EXPECT_EQ(s->reserved_by["inv-a"] + s->reserved_by["inv-b"], s->reserved);
    for (auto* p : {&orders, &inv_a}) {
        p->signal(SIGTERM);
        EXPECT_EQ(p->wait(10s), std::optional<int>(0)) << p->err();
    }
}

}  // namespace
}  // namespace zmesh::test
