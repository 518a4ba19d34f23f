// SPDX-License-Identifier: MPL-2.0
// inventory: one warehouse. Takes orders from the stream "orders" as a member of the work
// queue "inventory" (each order goes to one instance at a time, and to another should that
// one fail or die), reserves their stock or says why not, and publishes the decision
// (inventory.reserved / inventory.rejected) for orders and anyone interested. Also serves
// inventory.stock, and inventory.reserve for callers that want an answer at once (the Python
// front end of python/). Run several: they share the orders.
//
//   zmesh-example-inventory --name inv-a --stock apple=500,pear=500 [zmesh node flags]
#include "shop.hpp"
#include "tools/cli.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>

namespace {

using namespace zmesh;
using namespace std::chrono_literals;

// Stock per item and every decision taken. Handlers run on several worker threads: one
// lock makes check-and-take atomic, so stock can never go below zero.
class warehouse {
public:
    warehouse(std::string name, std::map<std::string, std::int64_t> stock)
        : name_(std::move(name)), stock_(std::move(stock)) {}

    shop::reservation reserve(const shop::reserve_request& r) {
        std::lock_guard lock(mutex_);
        // An order handed again (a redelivery, or a caller that lost our reply) gets the same
        // answer: its stock is taken once.
        if (auto it = decided_.find(r.order_id); it != decided_.end()) {
            ++repeats_;
            return it->second;
        }
        shop::reservation out{r.order_id, r.item, r.qty, false, name_, ""};
        auto item = stock_.find(r.item);
        if (r.qty <= 0) {
            out.reason = "quantity must be positive";
        } else if (item == stock_.end()) {
            out.reason = "unknown item";
        } else if (item->second < r.qty) {
            out.reason = "out of stock";
        } else {
            item->second -= r.qty;
            out.reserved = true;
            reserved_qty_ += r.qty;
        }
        ++(out.reserved ? reserved_orders_ : rejected_orders_);
        decided_.emplace(r.order_id, out);
        return out;
    }

    shop::stock_report report() const {
        std::lock_guard lock(mutex_);
        return {name_, stock_, reserved_qty_, reserved_orders_, rejected_orders_, repeats_};
    }

private:
    const std::string name_;
    mutable std::mutex mutex_;
    std::map<std::string, std::int64_t> stock_;
    std::unordered_map<std::uint64_t, shop::reservation> decided_;
    std::int64_t reserved_qty_ = 0;
    std::uint64_t reserved_orders_ = 0, rejected_orders_ = 0, repeats_ = 0;
};

// Decides one order of the stream: the decision is announced, then the order acknowledged.
// Should this instance die in between, the order is handed again (here or to another
// instance) and its decision announced again; orders keeps the first one it hears.
void take_order(node& n, warehouse& stock, const stream_message& msg) {
    const auto order = msg.try_as<shop::reserve_request>();
    if (!order) {
        // No attempt can read it; after max_deliveries it waits in orders.dlq with this reason.
        msg.nak(0ms, "not a reserve_request");
        return;
    }
    const auto decision = stock.reserve(*order);
    if (!n.publish(decision.reserved ? "inventory.reserved" : "inventory.rejected", decision)) {
        // This node's publish queue is full: a transient failure. The decision is kept, and
        // the next attempt announces it.
        msg.nak(1s, "publish queue full");
        return;
    }
    msg.ack();
}

// "apple=500,pear=20" -> {apple: 500, pear: 20}.
std::map<std::string, std::int64_t> parse_stock(const std::string& text) {
    std::map<std::string, std::int64_t> stock;
    std::stringstream in(text);
    std::string entry;
    while (std::getline(in, entry, ',')) {
        const auto eq = entry.find('=');
        std::int64_t qty = -1;
        try {
            if (eq != std::string::npos) qty = std::stoll(entry.substr(eq + 1));
        } catch (const std::exception&) {
        }
        if (eq == 0 || eq == std::string::npos || qty < 0)
            throw std::invalid_argument("--stock wants ITEM=QTY,... with QTY >= 0, not '" + entry + "'");
        stock[entry.substr(0, eq)] = qty;
    }
    return stock;
}

}  // namespace

int main(int argc, char** argv) {
    zmesh::tune_malloc();   // first, before any thread: see <zmesh/tuning.hpp>
    cli::block_signals();
    cli::po::options_description desc("zmesh-example-inventory options");
    desc.add_options()("stock", cli::po::value<std::string>()->default_value("apple=500,pear=500,plum=500"),
                       "what this warehouse holds: ITEM=QTY,...");
    const auto vm = cli::parse(argc, argv,
                               {"zmesh-example-inventory", "zmesh-example-inventory [--name NAME] [--stock ITEM=QTY,...]"},
                               desc).vm;
    try {
        const auto initial = parse_stock(vm["stock"].as<std::string>());
        std::optional<warehouse> stock;   // before the node: its handlers use it until it stops
        node n(cli::node_options(vm));
        stock.emplace(n.name(), initial);
        n.serve("inventory.reserve", [&](const request& r) -> response {
            const auto decision = stock->reserve(r.as<shop::reserve_request>());
            // Published before replying: whoever waits for the event never misses it.
            n.publish(decision.reserved ? "inventory.reserved" : "inventory.rejected", decision);
            return decision;
        });
        n.serve("inventory.stock", [&](const request&) -> response { return stock->report(); });
        n.start();
        // The first instance ever starts at the first order stored: orders placed before any
        // inventory ran are decided too. Later ones resume where the name "inventory" was.
        consume_options queue;
        queue.start = stream_start::first;
        queue.ack_wait = 10s;   // deciding is quick: an order held this long sits with a hung instance
        n.consume(shop::orders_stream, shop::inventory_consumer,
                  [&](const stream_message& msg) { take_order(n, *stock, msg); }, queue);
        std::printf("ready %s\n", n.name().c_str());
        std::fflush(stdout);
        while (!cli::wait_for_signal(std::chrono::seconds(1))) {
        }
        n.stop();
        const auto r = stock->report();
        std::printf("stock reserved_qty=%lld orders=%llu rejected=%llu\n",
                    static_cast<long long>(r.reserved_qty), static_cast<unsigned long long>(r.reserved_orders),
                    static_cast<unsigned long long>(r.rejected_orders));
        return 0;
    } catch (const std::exception& e) {
        return cli::fail("zmesh-example-inventory", e.what());
    }
}
