// SPDX-License-Identifier: MPL-2.0
// node: a node's life — made, started (its reactor and delivery threads), stopped — and the
// synchronous queries. Events are in node_events.cpp, RPC in node_rpc.cpp; options are
// checked in options.cpp.
#include "node_threads.hpp"

#include "data_dir.hpp"
#include "key_ids.hpp"
#include "protocol/limits.hpp"

#include <zmesh/keys.hpp>
#include <zmesh/metrics.hpp>

#include <unistd.h>

#include <stdexcept>
#include <tuple>

namespace zmesh {

namespace {
std::string default_name() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::string name = std::string(host) + "-" + std::to_string(getpid());
    return name.substr(0, protocol::max_name_len);
}
// Returns: the id a node with options `o` starts with. A secured node's is bound to its key
// (nobody without the secret can claim it); with a data directory it is the one kept there,
// so a restarted publisher is the same publisher to its consumers — a secured one too, as
// long as its key is the same (another key: a fresh id for it, kept in its turn).
node_id initial_id(const options& o) {
    if (!o.secret_key.empty() && decode_key(o.secret_key)) {
        const auto key = *decode_key(public_key_of(o.secret_key));
        const auto fresh = [&] { return new_id_for_key(key); };
        if (o.data_dir.empty()) return fresh();
        return detail::kept_node_id(o.data_dir, fresh, [&](const node_id& id) { return id_holds_key(id, key); });
    }
    return o.data_dir.empty() ? node_id::random() : detail::kept_node_id(o.data_dir);
}

}  // namespace

node::node(options o)
    : options_(std::move(o)),
      id_(initial_id(options_)),
      prefix_counts_(std::make_unique<prefix_counts>()),
      counters_(std::make_shared<counters>()) {
    if (options_.name.empty()) options_.name = default_name();
    if (auto error = validate(options_); !error.empty()) throw std::invalid_argument(error);
    counters_->handler_log.set(logger(options_.name, options_.log, options_.log_to));
}

node::~node() { stop(); }

void node::on_peer_event(std::function<void(const peer_event&)> handler) {
    if (threads_) throw std::logic_error("on_peer_event must be set before start()");
    peer_handler_ = std::move(handler);
}

bool node::running() const noexcept { return threads_ != nullptr; }

void node::start() {
    if (threads_) return;
    counters_->stopping.store(false, std::memory_order_relaxed);   // a node may start again
    auto t = std::make_unique<threads>(static_cast<int>(options_.publish_queue), options_.rpc_queue);
    if (!options_.data_dir.empty()) t->data_dir = std::make_unique<detail::data_dir_lock>(options_.data_dir);

    std::promise<std::pair<std::string, std::string>> ready;
    auto ready_future = ready.get_future();
    detail::reactor::setup setup{options_, id_, t->command_endpoint, t->deliveries, counters_, t->pool, {}, {}, t->view};
    // A stream message settles through the node while it runs (node_threads.hpp: settle_gate).
    t->settles->target = this;
    setup.settlers = [gate = t->settles](detail::settle_command c) -> stream_message::settler {
        return [gate, c = std::move(c)](stream_message::outcome o, milliseconds delay, const std::string& error) {
            std::lock_guard lock(gate->mutex);
            if (!gate->target) return;   // stopped: the publisher hands the message out again
            auto settle = c;
            settle.outcome = o;
            settle.delay = delay;
            settle.error = error;
            gate->target->send_command(std::move(settle));
        };
    };
    // Methods and subscriptions made before start are the reactor's first commands, handled
    // before it polls: sent through the pipe after start, a peer's beacon could come first
    // and our first HELLO would lack them.
    bool early_workers = false;
    for (auto& s : early_services_) {
        early_workers |= s.where == run_on::handler_thread;
        setup.first.emplace_back(detail::serve_command{
            std::move(s.method), std::make_shared<const rpc_handler>(std::move(s.handler)), s.where});
    }
    for (auto& sub : early_subs_)
        setup.first.emplace_back(detail::subscribe_command{sub.id, std::move(sub.prefix),
                                                           std::move(sub.handler), sub.where});
    early_services_.clear();
    early_subs_.clear();
    detail::reactor* reactor_ptr = nullptr;   // written before `ready` is set
    t->reactor_thread = std::jthread([setup = std::move(setup), &ready, &reactor_ptr]() mutable noexcept {
        detail::name_this_thread("zmesh-reactor");
        std::unique_ptr<detail::reactor> r;
        try {
            r = std::make_unique<detail::reactor>(std::move(setup));
            reactor_ptr = r.get();
            ready.set_value({r->pub_endpoint(), r->router_endpoint()});
        } catch (...) {
            ready.set_exception(std::current_exception());
            return;
        }
        r->run();
    });
    try {
        std::tie(pub_endpoint_, router_endpoint_) = ready_future.get();
        t->reactor = reactor_ptr;
    } catch (...) {
        t->reactor_thread.join();
        throw;
    }

    t->delivery_thread = std::jthread(
        [loop = detail::delivery_loop(t->deliveries, peer_handler_, counters_)]() mutable {
            detail::name_this_thread("zmesh-deliver");
            loop.run();
        });
    t->delivery_thread_id = t->delivery_thread.get_id();
    threads_ = std::move(t);
    if (early_workers) start_workers_once();
    if (!options_.metrics_endpoint.empty()) {
        try {
            threads_->metrics = std::make_unique<detail::metrics_server>(options_.metrics_endpoint,
                                                                         [this] { return metrics(); });
        } catch (...) {
            stop();
            throw;
        }
    }
}

void node::stop() {
    if (!threads_) return;
    // Stopping joins these threads: one of them would wait for itself for ever.
    if (threads_->own_thread(true))
        throw std::logic_error("node::stop() called from one of the node's own threads (a callback or handler)");
    threads_->metrics.reset();   // it asks the reactor: gone before the reactor is
    counters_->stopping.store(true, std::memory_order_relaxed);
    {
        std::lock_guard lock(threads_->settles->mutex);
        threads_->settles->target = nullptr;
    }
    send_command(detail::stop_command{});
    threads_->reactor_thread.join();
    // The reactor's last delivery ends the delivery thread; this one too, should the reactor
    // have failed before it sent it (what follows the first is never read).
    threads_->deliveries->push(detail::end_of_deliveries{});
    threads_->delivery_thread.join();
    for (auto& w : threads_->workers) w.join();   // each finishes its current handler
    threads_.reset();
}

std::vector<peer_info> node::peers() const {
    if (!threads_) return {};
    return threads_->ask<std::vector<peer_info>, detail::peers_query>();
}

std::string node::metrics() const {
    // This node as a member that reported all its counters, beside the members it sees.
    peer_info self;
    self.id = id_;
    self.name = options_.name;
    self.state = peer_state::joined;
    self.observer = options_.observer;
    self.reported = counters_of(stats());
    auto all = peers();
    all.insert(all.begin(), std::move(self));
    return prometheus_text(options_.mesh, all);
}

std::uint16_t node::metrics_port() const noexcept {
    return threads_ && threads_->metrics ? threads_->metrics->port() : 0;
}

node_stats node::stats() const {
    if (!threads_) return {};
    return threads_->ask<node_stats, detail::stats_query>();
}

}  // namespace zmesh
