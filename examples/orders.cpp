// SPDX-License-Identifier: MPL-2.0
// orders: takes orders (RPC orders.place) and stores each in the stream "orders" (event
// order.created, kept in --data-dir), answering once it is on disk. The inventory instances
// take the stream as a work queue and announce their decisions (inventory.reserved /
// inventory.rejected), from which orders follows each order to a final state. Orders placed
// while no inventory runs wait in the stream and are decided when one comes back.
//
//   zmesh-example-orders --name orders [--data-dir DIR] [zmesh node flags]
#include "shop.hpp"
#include "tools/cli.hpp"

#include <cstdio>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace {

using namespace zmesh;

struct order {
    shop::reserve_request request;
    std::string state = "pending";
    std::string by;
};

// Every order this run placed, and its state. Touched from RPC workers (place, get) and the
// delivery thread (decisions): one lock, held only to read or write the map. It lives in
// memory: a real service would keep it in its database, next to the stream.
class order_book {
public:
    void add(const shop::reserve_request& r) {
        std::lock_guard lock(mutex_);
        orders_[r.order_id].request = r;
    }
    void remove(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        orders_.erase(id);
    }
    // Applies an inventory decision. An order is handed again when its first decision may
    // not have been acknowledged, so a decision may come twice, even from two instances:
    // the first one wins and the others are only counted.
    void decide(const shop::reservation& r) {
        std::lock_guard lock(mutex_);
        auto it = orders_.find(r.order_id);
        if (it == orders_.end()) return;   // placed before a restart, or by someone else
        if (it->second.state != "pending") {
            ++repeats_;
            return;
        }
        it->second.state = r.reserved ? "reserved" : "rejected";
        it->second.by = r.by;
    }
    std::optional<shop::order_view> view(std::uint64_t id) const {
        std::lock_guard lock(mutex_);
        auto it = orders_.find(id);
        if (it == orders_.end()) return std::nullopt;
        const auto& o = it->second;
        return shop::order_view{id, o.request.item, o.request.qty, o.state, o.by};
    }
    shop::summary totals() const {
        std::lock_guard lock(mutex_);
        shop::summary s;
        s.total = orders_.size();
        s.repeats = repeats_;
        for (const auto& [id, o] : orders_) {
            if (o.state == "pending") ++s.pending;
            if (o.state == "rejected") ++s.rejected;
            if (o.state == "reserved") {
                ++s.reserved;
                ++s.reserved_by[o.by];
            }
        }
        return s;
    }

private:
    mutable std::mutex mutex_;
    std::uint64_t repeats_ = 0;
    std::unordered_map<std::uint64_t, order> orders_;
};

// Numbers and stores orders one at a time, so order n is record n of the stream: a
// restarted service goes on from the stream's last sequence number, and never hands out an
// id the inventories have decided already.
class order_desk {
public:
    order_desk(node& n, order_book& book) : node_(n), book_(book) {}

    // Declares the stream and reads how far it goes; orders.place waits for it.
    void open() {
        std::lock_guard lock(mutex_);
        node_.declare_stream({shop::orders_stream, "order."});
        for (const auto& s : node_.streams())
            if (s.config.name == shop::orders_stream) last_id_ = s.last_seq;
        open_ = true;
    }

    // Returns: the order's id once it is stored, or an error when it could not be.
    response place(const shop::order_request& o) {
        std::lock_guard lock(mutex_);
        if (!open_) return rpc_error(503, "not open yet");
        const shop::reserve_request r{last_id_ + 1, o.item, o.qty};
        book_.add(r);   // before it is stored: its decision may come back at once
        try {
            node_.publish_stored("order.created", r).get();
        } catch (const std::exception& e) {
            book_.remove(r.order_id);   // not stored: the id is free again
            return rpc_error(503, std::string("order not stored: ") + e.what());
        }
        last_id_ = r.order_id;
        return shop::placed{r.order_id};
    }

private:
    node& node_;
    order_book& book_;
    std::mutex mutex_;
    std::uint64_t last_id_ = 0;
    bool open_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    zmesh::tune_malloc();   // first, before any thread: see <zmesh/tuning.hpp>
    cli::block_signals();
    cli::po::options_description desc("zmesh-example-orders options");
    desc.add_options()("data-dir", cli::po::value<std::string>()->value_name("DIR"),
                       "where the orders stream and this node's id are kept, created when absent "
                       "(default: NAME.data in the current directory, NAME from --name or 'orders'); "
                       "restarted on it, the service resumes where it was");
    const auto vm = cli::parse(argc, argv,
                               {"zmesh-example-orders", "zmesh-example-orders [--name NAME] [--data-dir DIR] [options]"},
                               desc).vm;
    try {
        order_book book;   // before the node: its handlers use it until it stops
        auto opts = cli::node_options(vm);
        opts.data_dir = vm.count("data-dir") ? vm["data-dir"].as<std::string>()
                                             : (opts.name.empty() ? std::string("orders") : opts.name) + ".data";
        node n(opts);
        order_desk desk(n, book);
        n.serve("orders.place", [&](const request& r) -> response {
            const auto o = r.as<shop::order_request>();
            if (o.item.empty() || o.qty <= 0 || o.qty > 1000)
                return rpc_error(400, "an order needs an item and a quantity of 1..1000");
            return desk.place(o);
        });
        n.serve("orders.get", [&](const request& r) -> response {
            if (auto v = book.view(r.as<std::uint64_t>())) return *v;
            return rpc_error(404, "no such order (this run of orders.place did not take it)");
        });
        n.serve("orders.summary", [&](const request&) -> response { return book.totals(); });
        const auto on_decision = [&book](const event& e) { book.decide(e.as<shop::reservation>()); };
        n.subscribe("inventory.reserved", on_decision);
        n.subscribe("inventory.rejected", on_decision);
        n.start();
        desk.open();
        std::printf("ready %s\n", n.name().c_str());
        std::fflush(stdout);
        while (!cli::wait_for_signal(std::chrono::seconds(1))) {
        }
        n.stop();
        const auto s = book.totals();
        std::printf("orders total=%llu reserved=%llu rejected=%llu pending=%llu\n",
                    static_cast<unsigned long long>(s.total), static_cast<unsigned long long>(s.reserved),
                    static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(s.pending));
        return 0;
    } catch (const std::exception& e) {
        return cli::fail("zmesh-example-orders", e.what());
    }
}
