// SPDX-License-Identifier: MPL-2.0
// node: the reactor and delivery threads, and the synchronous queries (options are checked
// in options.cpp).
#include <zmesh/node.hpp>

#include "command.hpp"
#include "delivery.hpp"
#include "key_ids.hpp"
#include "workers.hpp"
#include "command_pipe.hpp"
#include "protocol/beacon.hpp"
#include "protocol/endpoint.hpp"
#include "protocol/event.hpp"
#include "protocol/msgpack_io.hpp"
#include "protocol/limits.hpp"
#include "protocol/rpc.hpp"
#include "reactor.hpp"
#include "rpc/worker_pool.hpp"

#include <zmesh/keys.hpp>

#include <unistd.h>

#include <cstring>
#include <future>
#include <stdexcept>
#include <map>
#include <mutex>
#include <unordered_map>
#include <thread>
#include <tuple>

namespace zmesh {

std::string_view to_string(rpc_errc k) noexcept {
    switch (k) {
        case rpc_errc::timeout: return "timeout";
        case rpc_errc::no_provider: return "no_provider";
        case rpc_errc::peer_lost: return "peer_lost";
        case rpc_errc::remote: return "remote";
        case rpc_errc::decode: return "decode";
        case rpc_errc::stopped: return "stopped";
        case rpc_errc::invalid: return "invalid";
    }
    return "?";
}

namespace {
std::string default_name() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::string name = std::string(host) + "-" + std::to_string(getpid());
    return name.substr(0, protocol::max_name_len);
}

// Returns: the longest subscription prefix the linked libzmq sends intact. Before 4.3.5 it
// encodes one of 246..255 bytes with a wrong length (its issue 4564), which breaks the
// subscriber's connection to every publisher and every subscription with it.
std::size_t longest_prefix_sent_intact() {
    int major = 0, minor = 0, patch = 0;
    zmq_version(&major, &minor, &patch);
    const bool fixed = std::tie(major, minor, patch) >= std::tuple(4, 3, 5);
    return fixed ? protocol::max_topic_len : 245;
}
}  // namespace

// The threads of a running node, and the pipe ends that are not the reactor's.
struct node::threads {
    threads(int publish_queue, std::size_t rpc_queue)
        : commands(command_endpoint, publish_queue), pool(std::make_shared<detail::worker_pool>(rpc_queue)) {}

    std::string command_endpoint = detail::unique_inproc("cmd");
    detail::command_sender commands;
    std::shared_ptr<detail::delivery_queue> deliveries = std::make_shared<detail::delivery_queue>();
    // Requests for the workers, shared with the reactor; outlives the workers (joined first).
    std::shared_ptr<detail::worker_pool> pool;
    std::vector<std::jthread> workers;   // none until a method is served on them
    std::once_flag workers_started;
    std::jthread reactor_thread;
    std::jthread delivery_thread;
    std::thread::id delivery_thread_id;
    detail::reactor* reactor = nullptr;   // compared, never used, off its own thread

    // Returns: this node's reactor when the caller is code it runs (run_on::reactor), which
    // hands it work directly instead of through the pipe; else null.
    detail::reactor* reactor_of_this_thread() const noexcept {
        auto* r = detail::reactor::of_this_thread();
        return r == reactor ? r : nullptr;
    }

    template <class Reply, class Query>
    Reply ask() {
        auto q = std::make_unique<detail::command>(Query{});
        auto reply = std::get<Query>(*q).reply.get_future();
        if (!detail::send_command(commands.socket(), std::move(q))) return Reply{};
        // A generous bound: the reactor answers within one poll, but a caller must never
        // hang on a reactor that is stopping.
        if (reply.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return Reply{};
        try {
            return reply.get();
        } catch (const std::future_error&) {
            return Reply{};   // the reactor stopped before answering
        }
    }
};

struct node::prefix_counts {
    std::mutex mutex;
    std::map<std::string, int> subscriptions;          // by prefix
    std::size_t bytes = 0;                             // of the distinct prefixes
    std::unordered_map<subscription_id, std::string> prefix_of;
};

// The counters the reactor, the delivery thread and publishing threads share, under a name
// of node's own: the public header declares it without the internal type.
struct node::counters : detail::shared_counters {};

node::node(options o)
    : options_(std::move(o)),
      // A secured node's id is bound to its key: nobody without the secret can claim it.
      id_(options_.secret_key.empty() || !decode_key(options_.secret_key)
              ? node_id::random()
              : new_id_for_key(*decode_key(public_key_of(options_.secret_key)))),
      prefix_counts_(std::make_unique<prefix_counts>()),
      counters_(std::make_shared<counters>()) {
    if (options_.name.empty()) options_.name = default_name();
    if (auto error = validate(options_); !error.empty()) throw std::invalid_argument(error);
}

node::~node() { stop(); }

template <class Command>
void node::send_command(Command&& c) {
    // From code this node runs on its reactor: straight to the reactor, no pipe.
    if (auto* r = threads_->reactor_of_this_thread()) return r->post(std::forward<Command>(c));
    detail::send_command(threads_->commands.socket(), std::make_unique<detail::command>(std::forward<Command>(c)));
}

void node::on_peer_event(std::function<void(const peer_event&)> handler) {
    if (threads_) throw std::logic_error("on_peer_event must be set before start()");
    peer_handler_ = std::move(handler);
}

bool node::running() const noexcept { return threads_ != nullptr; }

void node::start() {
    if (threads_) return;
    counters_->stopping.store(false, std::memory_order_relaxed);   // a node may start again
    auto t = std::make_unique<threads>(static_cast<int>(options_.publish_queue), options_.rpc_queue);

    std::promise<std::pair<std::string, std::string>> ready;
    auto ready_future = ready.get_future();
    detail::reactor::setup setup{options_, id_, t->command_endpoint, t->deliveries, counters_, t->pool, {}};
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
}


subscription_id node::subscribe(std::string prefix, event_handler handler, run_on where) {
    if (prefix.find('\0') != std::string::npos)
        throw std::invalid_argument("a subscription prefix may not contain NUL");
    if (const auto longest = longest_prefix_sent_intact(); prefix.size() > longest)
        throw std::invalid_argument(
            "a subscription prefix is at most " + std::to_string(longest) + " bytes" +
            (longest < protocol::max_topic_len ? " with libzmq before 4.3.5, which corrupts longer ones"
                                               : ""));
    if (!handler) throw std::invalid_argument("subscription handler is empty");
    static std::atomic<subscription_id> next_id{1};
    const subscription_id id = next_id++;
    {
        std::lock_guard lock(prefix_counts_->mutex);
        auto& counts = prefix_counts_->subscriptions;
        if (!counts.count(prefix)) {
            // The bounds every publisher holds its subscribers to (PROTOCOL.md §9.4).
            if (counts.size() >= protocol::max_subscriptions)
                throw std::length_error("a node subscribes to at most " +
                                        std::to_string(protocol::max_subscriptions) +
                                        " distinct prefixes");
            if (prefix_counts_->bytes + prefix.size() > protocol::max_subscription_bytes)
                throw std::length_error("a node's distinct prefixes hold at most " +
                                        std::to_string(protocol::max_subscription_bytes) +
                                        " bytes in all");
            prefix_counts_->bytes += prefix.size();
        }
        ++counts[prefix];
        prefix_counts_->prefix_of.emplace(id, prefix);
    }
    if (!threads_)
        early_subs_.push_back({id, std::move(prefix), std::move(handler), where});
    else
        send_command(detail::subscribe_command{id, std::move(prefix), std::move(handler), where});
    return id;
}

void node::unsubscribe(subscription_id id) {
    {
        std::lock_guard lock(prefix_counts_->mutex);
        const auto it = prefix_counts_->prefix_of.find(id);
        if (it == prefix_counts_->prefix_of.end()) return;   // not ours, or gone already
        if (auto c = prefix_counts_->subscriptions.find(it->second); --c->second == 0) {
            prefix_counts_->bytes -= c->first.size();
            prefix_counts_->subscriptions.erase(c);
        }
        prefix_counts_->prefix_of.erase(it);
    }
    if (!threads_) {
        std::erase_if(early_subs_, [id](const auto& s) { return s.id == id; });
        return;
    }
    send_command(detail::unsubscribe_command{id});
}

void node::start_workers_once() {
    std::call_once(threads_->workers_started, [this] {
        threads_->workers = detail::start_workers(*threads_->pool, options_.rpc_workers, options_.max_rpc_size);
    });
}

void node::serve(std::string method, rpc_handler handler, run_on where) {
    if (method.empty() || method.size() > protocol::max_service_len)
        throw std::invalid_argument("method name must be 1..128 bytes");
    if (!handler) throw std::invalid_argument("rpc handler is empty");
    if (!threads_) {
        std::erase_if(early_services_, [&](const auto& s) { return s.method == method; });
        early_services_.push_back({std::move(method), std::move(handler), where});
        return;
    }
    // Worker threads start with the first method that needs them: a node that only calls,
    // or serves on the reactor, has none. They exist before the reactor hears of the method.
    if (where == run_on::handler_thread) start_workers_once();
    send_command(detail::serve_command{
        std::move(method), std::make_shared<const rpc_handler>(std::move(handler)), where});
}

void node::unserve(const std::string& method) {
    if (!threads_) {
        std::erase_if(early_services_, [&](const auto& s) { return s.method == method; });
        return;
    }
    send_command(detail::serve_command{method, nullptr});
}

std::future<reply> node::call_packed(std::optional<node_id> peer, std::string_view method,
                                     std::vector<std::uint8_t> args, milliseconds timeout) {
    std::variant<std::promise<reply>, call_callback> done;
    auto future = done.emplace<std::promise<reply>>().get_future();
    start_call(peer, method, false, args, timeout, std::move(done));
    return future;
}

std::future<reply> node::call_packed(std::optional<node_id> peer, std::string_view method,
                                     packed_args args, milliseconds timeout) {
    std::variant<std::promise<reply>, call_callback> done;
    auto future = done.emplace<std::promise<reply>>().get_future();
    start_call(peer, method, true, args.bytes, timeout, std::move(done));
    return future;
}

void node::call_packed(std::optional<node_id> peer, std::string_view method,
                       std::vector<std::uint8_t> args, milliseconds timeout, call_callback done,
                       run_on where) {
    start_call(peer, method, false, args, timeout, std::move(done), where);
}

void node::call_packed(std::optional<node_id> peer, std::string_view method, packed_args args,
                       milliseconds timeout, call_callback done, run_on where) {
    start_call(peer, method, true, args.bytes, timeout, std::move(done), where);
}

void node::start_call(const std::optional<node_id>& peer, std::string_view method, bool args_checked,
                      std::span<const std::uint8_t> args, milliseconds timeout,
                      std::variant<std::promise<reply>, call_callback>&& done, run_on where) {
    if (const auto* callback = std::get_if<call_callback>(&done); callback && !*callback)
        throw std::invalid_argument("call callback is empty");
    // Refusals before the reactor are reported like any other failure: through `done`.
    const auto refuse = [&](rpc_errc kind, const std::string& why) {
        if (auto* p = std::get_if<std::promise<reply>>(&done))
            p->set_exception(std::make_exception_ptr(rpc_error(kind, why)));
        else
            std::get<call_callback>(done)(call_result(rpc_error(kind, why)));
    };
    if (method.empty() || method.size() > protocol::max_service_len)
        return refuse(rpc_errc::invalid, "method name must be 1..128 bytes");
    if (args.size() > options_.max_rpc_size)
        return refuse(rpc_errc::invalid, "arguments of " + std::to_string(args.size()) +
                                             " bytes are over max_rpc_size");
    if (!args_checked && protocol::check_msgpack(args))
        return refuse(rpc_errc::invalid, "arguments are not one msgpack object");
    if (!threads_) return refuse(rpc_errc::stopped, "node is not running");
    // The whole REQUEST frame is built here, in the message libzmq will send, with id 0: the
    // reactor encodes the header again in place with the call's id (protocol::encode_request).
    const auto timeout_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(timeout.count(), 0));
    const protocol::request_header header{0, method, timeout_ms};
    zmq::message_t request(protocol::request_size(header, args.size()));
    protocol::encode_request(header, args, {request.data<std::uint8_t>(), request.size()});
    if (auto* r = threads_->reactor_of_this_thread()) {   // code run on our reactor: no command
        return r->call(detail::call_command{peer, std::move(request), timeout, std::move(done), where});
    }
    send_command(detail::call_command{peer, std::move(request), timeout, std::move(done), where});
}

bool node::publish(std::string_view topic, std::span<const std::uint8_t> bytes) {
    static thread_local msgpack::sbuffer buffer(256);
    buffer.clear();
    msgpack::packer<msgpack::sbuffer> pk(buffer);
    pk.pack_bin(static_cast<std::uint32_t>(bytes.size()));
    pk.pack_bin_body(reinterpret_cast<const char*>(bytes.data()), static_cast<std::uint32_t>(bytes.size()));
    return send_event(topic, {reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size()});
}

bool node::publish_packed(std::string_view topic, std::span<const std::uint8_t> msgpack_bytes) {
    if (auto e = protocol::check_msgpack(msgpack_bytes))
        throw std::invalid_argument("payload is not one msgpack object: " +
                                    std::string(protocol::to_string(*e)));
    return send_event(topic, msgpack_bytes);
}

bool node::send_event(std::string_view topic, std::span<const std::uint8_t> payload) {
    if (protocol::check_topic(topic))
        throw std::invalid_argument("topic must be 1..255 bytes without NUL");
    if (payload.size() > options_.max_event_size)
        throw std::invalid_argument("payload of " + std::to_string(payload.size()) +
                                    " bytes is over max_event_size (" +
                                    std::to_string(options_.max_event_size) + ")");
    if (threads_) {
        // The event's own wire frame, with room for the header: the reactor writes the header
        // in place and sends this very buffer on, with no copy.
        zmq::message_t frame(protocol::event_frame_size(topic.size(), payload.size()));
        protocol::lay_out_event_frame(
            topic, payload, std::span<std::uint8_t>(frame.data<std::uint8_t>(), frame.size()));
        if (auto* r = threads_->reactor_of_this_thread()) {
            // The same bound as a thread's pipe: reactor code publishing in a loop fills it.
            if (r->posted() < options_.publish_queue) {
                r->post_event(std::move(frame));
                return true;
            }
        } else {
            if (detail::send_event_frame(threads_->commands.socket(), frame)) return true;
        }
    }
    counters_->publish_dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
}

void node::stop() {
    if (!threads_) return;
    if (std::this_thread::get_id() == threads_->delivery_thread_id ||
        std::this_thread::get_id() == threads_->reactor_thread.get_id())
        throw std::logic_error("node::stop() called from one of its own callbacks");
    counters_->stopping.store(true, std::memory_order_relaxed);
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

node_stats node::stats() const {
    if (!threads_) return {};
    return threads_->ask<node_stats, detail::stats_query>();
}

}  // namespace zmesh
