// SPDX-License-Identifier: MPL-2.0
// rpc_server: requests in, handlers run, replies out.
#include "server.hpp"

#include "node/pipe.hpp"
#include "protocol/msgpack_io.hpp"

#include <algorithm>

namespace zmesh::detail {

rpc_server::rpc_server(node_context& ctx, shared_counters& counters, reply_port& replies,
                       const std::string& workers_endpoint, socket_use workers_used)
    : ctx_(ctx),
      counters_(counters),
      replies_(replies),
      workers_used_(workers_used),
      workers_(pipe_context(), zmq::socket_type::router),
      pool_(ctx.opts.rpc_queue) {
    workers_.set(zmq::sockopt::linger, 1000);   // "quit" must reach every worker
    workers_.bind(workers_endpoint);
}

bool rpc_server::serve(serve_command& c) {
    if (c.handler) {
        services_[c.method] = {std::move(c.handler), c.where};
        return true;
    }
    return services_.erase(c.method) > 0;
}

std::vector<std::string> rpc_server::methods() const {
    std::vector<std::string> names;
    for (const auto& [name, handler] : services_) names.push_back(name);
    return names;   // a std::map: sorted and unique
}

void rpc_server::on_request(const protocol::node_id& caller, const std::string& caller_name,
                            routed_frame& in, clock::time_point now) {
    auto& stats = ctx_.stats;
    const auto m = protocol::decode_request(in.bytes);
    if (!m) {
        ++stats.rpc_bad_requests;   // no id to answer to: dropped
        return;
    }
    const auto& h = m->header;
    if (m->body.size() > ctx_.opts.max_rpc_size || protocol::check_msgpack(m->body)) {
        ++stats.rpc_bad_requests;
        reply_error(in.routing, h.id, protocol::rpc_bad_request, "arguments are not one msgpack object");
        return;
    }
    const auto service = services_.find(h.method);
    if (service == services_.end()) {
        ++stats.rpc_unknown_method;
        reply_error(in.routing, h.id, protocol::rpc_no_such_method, "no method '" + std::string(h.method) + "'");
        return;
    }
    if (service->second.where == run_on::handler_thread && pool_.full()) {
        ++stats.rpc_busy;
        reply_error(in.routing, h.id, protocol::rpc_busy, "server busy");
        return;
    }
    if (h.timeout_ms == 0) {   // the caller has given up already: its timeout answers it
        ++stats.rpc_expired;
        return;
    }
    const auto deadline = now + std::chrono::milliseconds(std::min<std::uint64_t>(h.timeout_ms, 24ull * 3600 * 1000));
    if (service->second.where == run_on::reactor) {
        // The handler is lent the arguments inside the frame, which outlives it (a copy of
        // the request takes its own bytes). run_handler catches whatever the handler throws:
        // the reactor only loses the time it takes.
        ++stats.rpc_served;
        const request lent(lent_string::lend(service->first), caller, lent_string::lend(caller_name),
                           deadline, m->body, nullptr);
        run_handler(*service->second.handler, lent, in.route, h.id, ctx_.opts.max_rpc_size, done_);
        auto answer = done_.frame();   // built while the frame its result may view lives
        done_.result.reset();   // sent: a big result is not kept until the next handler runs
        replies_.send_reply(in.routing, answer);
        return;
    }
    auto job = std::make_unique<rpc_job>();
    job->caller = in.route;
    job->caller_name = caller_name;
    job->id = h.id;
    job->method = service->first;
    job->handler = service->second.handler;
    job->args = share_part(in.frame, m->body);
    job->deadline = deadline;
    pool_.queue(std::move(job));
    dispatch(now);
}

void rpc_server::dispatch(clock::time_point now) {
    while (auto next = pool_.next(now, ctx_.stats.rpc_expired)) {
        ++ctx_.stats.rpc_served;
        workers_used_();
        workers_.send(zmq::buffer(next->worker), zmq::send_flags::sndmore);
        send_owned(workers_, std::move(next->job));
    }
}

bool rpc_server::read_worker(zmq::message_t& worker, zmq::message_t& caller, zmq::message_t& frame) {
    if (!workers_.recv(worker, zmq::recv_flags::dontwait)) return false;
    // Both of our threads' messages come whole: [worker][empty] or [worker][caller][frame].
    caller.rebuild();
    frame.rebuild();
    if (worker.more()) (void)workers_.recv(caller);
    if (caller.more()) (void)workers_.recv(frame);
    return true;
}

void rpc_server::on_workers(clock::time_point now) {
    zmq::message_t worker, caller, frame;
    for (int i = 0; i < 256; ++i) {
        if (!read_worker(worker, caller, frame)) break;
        if (caller.size() == 0) {   // a new worker says it is ready
            pool_.ready(worker.to_string_view());
            continue;
        }
        pool_.answered(worker.to_string_view());
        if (protocol::read_routing_id(bytes_of(caller))) replies_.send_reply(caller, frame);
    }
    dispatch(now);
}

void rpc_server::reply_error(zmq::message_t& routing, std::uint64_t id, std::int64_t code,
                             const std::string& message) {
    auto frame = reply_frame({id, code, message}, packed_nil);
    replies_.send_reply(routing, frame);
}

void rpc_server::stop() {
    // A worker that has not said "ready" yet (a node stopped right after start) would never
    // hear "quit": wait for every one of them first. Replies still coming are dropped.
    zmq::message_t worker, caller, frame;
    const auto give_up = clock::now() + std::chrono::seconds(10);
    const auto started = counters_.workers_started.load(std::memory_order_acquire);
    while (pool_.workers() < started && clock::now() < give_up) {
        zmq_pollitem_t item{workers_.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;
        if (read_worker(worker, caller, frame) && caller.size() == 0) pool_.ready(worker.to_string_view());
    }
    // Busy workers read this after the jobs they hold (worker_credit at most); jobs still
    // queued here are dropped (their callers see this node leave: peer_lost).
    for (const auto& id : pool_.worker_ids()) {
        workers_.send(zmq::buffer(id), zmq::send_flags::sndmore);
        send_owned(workers_, std::unique_ptr<rpc_job>());
    }
    pool_.clear();
}

}  // namespace zmesh::detail
