// SPDX-License-Identifier: MPL-2.0
// The orders/inventory example, end to end: one orders process and two inventory processes;
// 1,000 orders placed from an in-process client while one inventory is killed -9 half way.
// Every order must end reserved or rejected, both instances must have served orders before
// the kill, and no warehouse may hand out more than it holds.
#include "shop.hpp"
#include "system/system_fixture.hpp"

#include <zmesh/node.hpp>

#include <csignal>
#include <deque>
#include <future>
#include <cstdio>
#include <random>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t stock_per_item = 400;   // per instance: 2 x 3 x 400 = 2,400 units
constexpr int orders_to_place = 1000;          // ~2,000 units asked: some must be rejected

class shop_example : public system_fixture {
protected:
    process& spawn(const std::string& program, const std::string& name, std::vector<std::string> extra = {}) {
        auto args = base_args(name, mesh_);
        args.insert(args.end(), extra.begin(), extra.end());
        procs_.push_back(std::make_unique<process>(tool(program), args));
        return *procs_.back();
    }
    std::unique_ptr<node> client() const { return start_client(); }
    static std::size_t providers(const node& n, const std::string& method) {
        std::size_t k = 0;
        for (const auto& p : n.peers())
            if (p.state == peer_state::joined &&
                std::find(p.services.begin(), p.services.end(), method) != p.services.end())
                ++k;
        return k;
    }
    static std::optional<node_id> id_of(const node& n, const std::string& name) {
        for (const auto& p : n.peers())
            if (p.name == name) return p.id;
        return std::nullopt;
    }
    template <class T>
    static std::optional<T> ask(node& n, const std::string& method, std::optional<node_id> peer = {}) {
        auto f = peer ? n.call_peer(*peer, method, msgpack::type::nil_t{}, 5s)
                    : n.call(method, msgpack::type::nil_t{}, 5s);
        if (f.wait_for(10s) != std::future_status::ready) return std::nullopt;
        try {
            return f.get().as<T>();
        } catch (const std::exception& e) {
            ADD_FAILURE() << method << ": " << e.what();
            return std::nullopt;
        }
    }
};

TEST_F(shop_example, every_order_ends_final_and_stock_never_goes_negative_through_a_failover) {
    const std::string stock = "apple=400,pear=400,plum=400";
    static_assert(stock_per_item == 400);
    auto& orders = spawn("zmesh-example-orders", "orders");
    auto& inv_a = spawn("zmesh-example-inventory", "inv-a", {"--stock", stock});
    auto& inv_b = spawn("zmesh-example-inventory", "inv-b", {"--stock", stock});
    for (auto* p : {&orders, &inv_a, &inv_b}) ASSERT_TRUE(p->wait_for_line("ready ", 10s)) << p->err();
    auto c = client();
    ASSERT_TRUE(wait_until([&] {
        return providers(*c, "orders.place") == 1 && providers(*c, "inventory.reserve") == 2;
    }, 10s));
    // The orders service must see both instances too before the load starts.
    ASSERT_TRUE(wait_until([&] {
        const auto id = id_of(*c, "orders");
        return id && c->peers().size() >= 3;
    }, 10s));

    std::mt19937 rng(42);
    const char* items[] = {"apple", "pear", "plum"};
    std::deque<std::future<reply>> inflight;
    std::size_t placed = 0, refused = 0;
    std::uint64_t a_before_kill = 0;
    const auto settle = [&](std::size_t keep) {
        while (inflight.size() > keep) {
            auto f = std::move(inflight.front());
            inflight.pop_front();
            try {
                if (f.get().as<shop::placed>().order_id > 0) ++placed;
            } catch (const std::exception& e) {
                ++refused;
                ADD_FAILURE() << "orders.place failed: " << e.what();
            }
        }
    };
    for (int i = 0; i < orders_to_place; ++i) {
        if (i == orders_to_place * 2 / 5) {
            settle(0);
            // Both instances must have taken a share before one dies: calls are spread.
            std::optional<shop::summary> t;
            ASSERT_TRUE(wait_until([&] {
                t = ask<shop::summary>(*c, "orders.summary");
                return t && t->pending == 0 && t->reserved_by.count("inv-a") && t->reserved_by.count("inv-b");
            }, 10s)) << "the load was not spread over both instances";
            a_before_kill = t->reserved_by["inv-a"];
            ::kill(inv_b.pid(), SIGKILL);
        }
        const shop::order_request o{items[rng() % 3], static_cast<std::int64_t>(1 + rng() % 3)};
        inflight.push_back(c->call("orders.place", o, 10s));
        settle(50);
    }
    settle(0);
    EXPECT_EQ(placed, static_cast<std::size_t>(orders_to_place));
    EXPECT_EQ(refused, 0u);

    std::optional<shop::summary> s;
    EXPECT_TRUE(wait_until([&] {
        s = ask<shop::summary>(*c, "orders.summary");
        return s && s->pending == 0;
    }, 30s)) << (s ? s->pending : 0) << " orders still pending";
    ASSERT_TRUE(s);
    EXPECT_EQ(s->total, static_cast<std::uint64_t>(orders_to_place));
    EXPECT_EQ(s->reserved + s->rejected, s->total);
    EXPECT_GT(s->rejected, 0u) << "demand exceeded supply: some orders must be rejected";
    EXPECT_GT(s->reserved_by["inv-a"], a_before_kill) << "the survivor took no orders after the kill";
    std::printf("orders: %llu reserved (inv-a %llu, inv-b %llu), %llu rejected, %llu reserve calls retried\n",
                static_cast<unsigned long long>(s->reserved), static_cast<unsigned long long>(s->reserved_by["inv-a"]),
                static_cast<unsigned long long>(s->reserved_by["inv-b"]), static_cast<unsigned long long>(s->rejected),
                static_cast<unsigned long long>(s->retries));

    // The survivor: never below zero, and its books add up.
    const auto a = ask<shop::stock_report>(*c, "inventory.stock", id_of(*c, "inv-a"));
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
