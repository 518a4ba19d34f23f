// SPDX-License-Identifier: MPL-2.0
// shop_fixture: the orders/inventory example as real processes on this test's mesh, orders
// with a data directory of its own, an in-process client that calls them, and a record of
// every decision the inventories announced.
#pragma once

#include "shop.hpp"
#include "system/system_fixture.hpp"

#include <zmesh/node.hpp>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>

namespace zmesh::test {

// Every decision heard on inventory.reserved / inventory.rejected: order id -> the
// instances that announced one (an instance announcing twice is counted once there).
class decisions {
public:
    void add(const shop::reservation& r) {
        std::lock_guard lock(mutex_);
        by_[r.order_id].insert(r.by);
    }
    std::map<std::uint64_t, std::set<std::string>> by() const {
        std::lock_guard lock(mutex_);
        return by_;
    }
    // Returns: how many of orders [first, last] have been announced decided.
    std::size_t decided(std::uint64_t first, std::uint64_t last) const {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(std::count_if(by_.begin(), by_.end(), [&](const auto& d) {
            return d.first >= first && d.first <= last;
        }));
    }

private:
    mutable std::mutex mutex_;
    std::map<std::uint64_t, std::set<std::string>> by_;
};

class shop_fixture : public system_fixture {
protected:
    shop_fixture() { std::filesystem::create_directories(data_dir_); }
    ~shop_fixture() override {
        client_.reset();
        procs_.clear();   // every process killed and reaped before its directory goes
        std::error_code ec;
        std::filesystem::remove_all(data_dir_, ec);
    }

    process& spawn(const std::string& program, const std::string& name, std::vector<std::string> extra = {}) {
        auto args = base_args(name, mesh_);
        args.insert(args.end(), extra.begin(), extra.end());
        procs_.push_back(std::make_unique<process>(tool(program), args));
        return *procs_.back();
    }
    // The orders service, on this test's data directory (the same one each time).
    process& spawn_orders() {
        return spawn("zmesh-example-orders", "orders", {"--data-dir", (data_dir_ / "orders").string()});
    }
    process& spawn_inventory(const std::string& name, const std::string& stock) {
        return spawn("zmesh-example-inventory", name, {"--stock", stock});
    }

    // Starts the client, which records every decision announced from now on.
    void start_client_node() {
        options o;
        o.name = "client";
        o.mesh = mesh_;
        o.beacon_port = beacon_port_;
        o.interface = "lo";
        o.bind = "127.0.0.1";
        o.log = log_level::error;
        o.stats_poll = std::chrono::milliseconds(200);   // to see the inventories' counters
        client_ = std::make_unique<node>(o);
        client_->subscribe("inventory.", [this](const event& e) { heard_.add(e.as<shop::reservation>()); });
        client_->start();
    }

    std::size_t providers(const std::string& method) const {
        std::size_t k = 0;
        for (const auto& p : client_->peers())
            if (p.state == peer_state::joined &&
                std::find(p.services.begin(), p.services.end(), method) != p.services.end())
                ++k;
        return k;
    }
    std::optional<node_id> id_of(const std::string& name) const {
        for (const auto& p : client_->peers())
            if (p.name == name && p.state == peer_state::joined) return p.id;
        return std::nullopt;
    }
    // Returns: counter `counter` as member `name` last reported it (0 before its first report).
    std::uint64_t reported(const std::string& name, const std::string& counter) const {
        for (const auto& p : client_->peers())
            if (p.name == name && p.state == peer_state::joined)
                for (const auto& [k, v] : p.reported)
                    if (k == counter) return v;
        return 0;
    }
    template <class T>
    std::optional<T> ask(const std::string& method, std::optional<node_id> peer = {}) {
        auto f = peer ? client_->call_peer(*peer, method, msgpack::type::nil_t{}, 5s)
                      : client_->call(method, msgpack::type::nil_t{}, 5s);
        if (f.wait_for(10s) != std::future_status::ready) return std::nullopt;
        try {
            return f.get().as<T>();
        } catch (const std::exception& e) {
            ADD_FAILURE() << method << ": " << e.what();
            return std::nullopt;
        }
    }
    std::optional<shop::summary> summary() { return ask<shop::summary>("orders.summary"); }
    std::optional<shop::stock_report> stock(const std::string& name) {
        const auto id = id_of(name);
        return id ? ask<shop::stock_report>("inventory.stock", id) : std::nullopt;
    }
    // Returns: once orders.summary shows no order pending (nullopt if it still does after `timeout`).
    std::optional<shop::summary> settled_summary(std::chrono::milliseconds timeout) {
        std::optional<shop::summary> s;
        if (!wait_until([&] { return (s = summary()) && s->pending == 0; }, timeout, 50ms)) return std::nullopt;
        return s;
    }

    // Places `count` orders, at most `window` outstanding; `each(i)` runs before order i is
    // sent. Returns: the ids orders.place answered, lowest first; a failed place fails the test.
    template <class Each>
    std::vector<std::uint64_t> place(int count, std::size_t window, Each each) {
        static const char* items[] = {"apple", "pear", "plum"};
        std::deque<std::future<reply>> inflight;
        std::vector<std::uint64_t> ids;
        const auto settle = [&](std::size_t keep) {
            for (; inflight.size() > keep; inflight.pop_front()) try {
                    ids.push_back(inflight.front().get().as<shop::placed>().order_id);
                } catch (const std::exception& e) {
                    ADD_FAILURE() << "orders.place failed: " << e.what();
                }
        };
        for (int i = 0; i < count; ++i) {
            each(i);
            const shop::order_request o{items[rng_() % 3], static_cast<std::int64_t>(1 + rng_() % 3)};
            inflight.push_back(client_->call("orders.place", o, 10s));
            settle(window);
        }
        settle(0);
        std::sort(ids.begin(), ids.end());
        return ids;
    }
    std::vector<std::uint64_t> place(int count, std::size_t window = 50) {
        return place(count, window, [](int) {});
    }

    std::filesystem::path data_dir_ =
        std::filesystem::temp_directory_path() / ("zmesh-shop-" + unique_mesh());
    decisions heard_;   // before the client: its handler writes here until it stops
    std::unique_ptr<node> client_;
    std::mt19937 rng_{42};
};

}  // namespace zmesh::test
