// SPDX-License-Identifier: MPL-2.0
// orders: takes orders (RPC orders.place), announces each (event order.created), asks an
// inventory instance to reserve its stock (RPC inventory.reserve, to whichever instance is
// least busy) and follows each order to a final state from the inventory's events
// (inventory.reserved / inventory.rejected) or, should an event be lost, from the reply.
// When an instance dies mid-call the call fails (peer_lost, timeout) and is sent again to
// another one, so every order ends reserved or rejected while any instance is alive.
//
//   zmesh-example-orders --name orders [zmesh node flags]
#include "shop.hpp"
#include "tools/cli.hpp"

#include <cstdio>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace {

using namespace zmesh;
using std::chrono::steady_clock;

constexpr std::chrono::milliseconds reserve_timeout{2000};
constexpr std::chrono::milliseconds retry_after{200};   // no instance answered: ask again then

struct order {
    shop::reserve_request request;
    std::string state = "pending";
    std::string by;
    std::optional<steady_clock::time_point> retry_at;   // set when a reserve call failed
};

// Every order and its state. Touched from RPC workers (place), the delivery thread (events,
// call results) and main (retries): one lock, held only to read or write the map.
class order_book {
public:
    shop::reserve_request add(const shop::order_request& r) {
        std::lock_guard lock(mutex_);
        const auto id = ++last_id_;
        orders_[id].request = {id, r.item, r.qty};
        return orders_[id].request;
    }
    // Applies an inventory decision; the first one for an order wins. Returns: true if new.
    bool decide(const shop::reservation& r) {
        std::lock_guard lock(mutex_);
        auto it = orders_.find(r.order_id);
        if (it == orders_.end() || it->second.state != "pending") return false;
        it->second.state = r.reserved ? "reserved" : "rejected";
        it->second.by = r.by;
        it->second.retry_at.reset();
        return true;
    }
    void failed(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        if (auto it = orders_.find(id); it != orders_.end() && it->second.state == "pending")
            it->second.retry_at = steady_clock::now() + retry_after;
    }
    // Returns: the pending orders whose retry time has come (and counts them as retried).
    std::vector<shop::reserve_request> due() {
        std::lock_guard lock(mutex_);
        std::vector<shop::reserve_request> out;
        const auto now = steady_clock::now();
        for (auto& [id, o] : orders_)
            if (o.retry_at && *o.retry_at <= now) {
                o.retry_at.reset();
                out.push_back(o.request);
            }
        retries_ += out.size();
        return out;
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
        s.retries = retries_;
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
    std::uint64_t last_id_ = 0;
    std::uint64_t retries_ = 0;
    std::unordered_map<std::uint64_t, order> orders_;
};

// Asks any inventory instance to reserve `r`; a failed call is retried by main's loop.
void reserve(node& n, order_book& book, const shop::reserve_request& r) {
    n.call("inventory.reserve", r, reserve_timeout, [&book, id = r.order_id](const call_result& c) {
        if (c.ok()) {
            book.decide(c.value().as<shop::reservation>());
        } else if (c.error().kind() != rpc_errc::stopped) {
            book.failed(id);   // timeout, peer_lost, no_provider, busy: another try soon
        }
    });
}

}  // namespace

int main(int argc, char** argv) {
    zmesh::tune_malloc();   // first, before any thread: see <zmesh/tuning.hpp>
    cli::block_signals();
    cli::po::options_description desc("zmesh-example-orders options");
    const auto vm = cli::parse(argc, argv, {"zmesh-example-orders", "zmesh-example-orders [--name NAME] [options]"},
                               desc).vm;
    try {
        order_book book;   // before the node: its handlers use it until it stops
        node n(cli::node_options(vm));
        n.serve("orders.place", [&](const request& r) -> response {
            const auto o = r.as<shop::order_request>();
            if (o.item.empty() || o.qty <= 0 || o.qty > 1000)
                return rpc_error(400, "an order needs an item and a quantity of 1..1000");
            const auto placed = book.add(o);
            n.publish("order.created", placed);
            reserve(n, book, placed);
            return shop::placed{placed.order_id};
        });
        n.serve("orders.get", [&](const request& r) -> response {
            if (auto v = book.view(r.as<std::uint64_t>())) return *v;
            return rpc_error(404, "no such order");
        });
        n.serve("orders.summary", [&](const request&) -> response { return book.totals(); });
        const auto on_decision = [&book](const event& e) { book.decide(e.as<shop::reservation>()); };
        n.subscribe("inventory.reserved", on_decision);
        n.subscribe("inventory.rejected", on_decision);
        n.start();
        std::printf("ready %s\n", n.name().c_str());
        std::fflush(stdout);
        while (!cli::wait_for_signal(std::chrono::milliseconds(100)))
            for (const auto& r : book.due()) reserve(n, book, r);
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
