// SPDX-License-Identifier: MPL-2.0
// node: option checks, the reactor and delivery threads, and the synchronous queries.
#include "node.hpp"

#include "command.hpp"
#include "pipe.hpp"
#include "protocol/endpoint.hpp"
#include "protocol/limits.hpp"
#include "reactor.hpp"

#include <unistd.h>

#include <future>
#include <stdexcept>
#include <thread>

namespace zmesh {

std::string validate(const options& o) {
    using namespace protocol;
    if (o.name.empty() || o.name.size() > max_name_len) return "name must be 1..64 bytes";
    if (o.mesh.empty() || o.mesh.size() > max_mesh_len) return "mesh must be 1..64 bytes";
    if (o.advertise.size() > max_host_len) return "advertise host is too long";
    if (o.beacon_port == 0) return "beacon port must be 1..65535";
    if (o.beacon_interval.count() < 0) return "beacon interval must be >= 0";
    if (o.seed_interval.count() <= 0) return "seed interval must be > 0";
    for (const auto& s : o.seeds)
        if (!parse_tcp_endpoint(s)) return "seed '" + s + "' is not tcp://HOST:PORT";
    const auto& l = o.liveness;
    if (l.heartbeat.count() <= 0) return "heartbeat must be > 0";
    if (l.evasive <= l.heartbeat) return "evasive timeout must exceed the heartbeat";
    if (l.expired <= l.evasive) return "expired timeout must exceed the evasive timeout";
    if (l.handshake.count() <= 0 || l.disconnect_grace.count() <= 0)
        return "handshake and disconnect timeouts must be > 0";
    if (o.bind.empty()) return "bind host must not be empty";
    return {};
}

namespace {
std::string default_name() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::string name = std::string(host) + "-" + std::to_string(getpid());
    return name.substr(0, protocol::max_name_len);
}
}  // namespace

// The threads of a running node, and the pipe ends that are not the reactor's.
struct node::threads {
    std::string command_endpoint = detail::unique_inproc("cmd");
    std::string delivery_endpoint = detail::unique_inproc("deliver");
    detail::command_sender commands{command_endpoint};
    std::jthread reactor_thread;
    std::jthread delivery_thread;
    std::thread::id delivery_thread_id;

    template <class Reply, class Query>
    Reply ask() {
        auto q = std::make_unique<detail::command>(Query{});
        auto reply = std::get<Query>(*q).reply.get_future();
        if (!detail::send_owned(commands.socket(), std::move(q))) return Reply{};
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

node::node(options o) : options_(std::move(o)), id_(node_id::random()) {
    if (options_.name.empty()) options_.name = default_name();
    if (auto error = validate(options_); !error.empty()) throw std::invalid_argument(error);
}

node::~node() { stop(); }

void node::on_peer_event(std::function<void(const peer_event&)> handler) {
    if (threads_) throw std::logic_error("on_peer_event must be set before start()");
    peer_handler_ = std::move(handler);
}

bool node::running() const noexcept { return threads_ != nullptr; }

void node::start() {
    if (threads_) return;
    auto t = std::make_unique<threads>();

    std::promise<std::pair<std::string, std::string>> ready;
    auto ready_future = ready.get_future();
    detail::reactor::setup setup{options_, id_, t->command_endpoint, t->delivery_endpoint};
    t->reactor_thread = std::jthread([setup = std::move(setup), &ready]() mutable noexcept {
        std::unique_ptr<detail::reactor> r;
        try {
            r = std::make_unique<detail::reactor>(std::move(setup));
            ready.set_value({r->pub_endpoint(), r->router_endpoint()});
        } catch (...) {
            ready.set_exception(std::current_exception());
            return;
        }
        r->run();
    });
    try {
        std::tie(pub_endpoint_, router_endpoint_) = ready_future.get();
    } catch (...) {
        t->reactor_thread.join();
        throw;
    }

    // The delivery thread connects after the reactor bound its end.
    zmq::socket_t in(detail::pipe_context(), zmq::socket_type::pair);
    in.set(zmq::sockopt::linger, 0);
    in.connect(t->delivery_endpoint);
    t->delivery_thread = std::jthread([in = std::move(in), handler = peer_handler_]() mutable {
        while (true) {
            auto d = detail::receive_owned<detail::delivery>(in, zmq::recv_flags::none);
            if (!d || std::holds_alternative<detail::end_of_deliveries>(*d)) return;
            if (auto* e = std::get_if<peer_event>(d.get()); e && handler) {
                try {
                    handler(*e);
                } catch (...) {
                    // An application bug must not take the node down with it.
                }
            }
        }
    });
    t->delivery_thread_id = t->delivery_thread.get_id();
    threads_ = std::move(t);
}

void node::stop() {
    if (!threads_) return;
    if (std::this_thread::get_id() == threads_->delivery_thread_id)
        throw std::logic_error("node::stop() called from one of its own callbacks");
    detail::send_owned(threads_->commands.socket(),
                       std::make_unique<detail::command>(detail::stop_command{}));
    threads_->reactor_thread.join();
    threads_->delivery_thread.join();
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
