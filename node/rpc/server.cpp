// SPDX-License-Identifier: MPL-2.0
// rpc_server: requests in, handlers run, replies out.
#include "server.hpp"

#include "node/pipe.hpp"
#include "protocol/msgpack_io.hpp"

#include <algorithm>
#include <array>

namespace zmesh::detail {

rpc_server::rpc_server(node_context& ctx, reply_port& replies, std::shared_ptr<worker_pool> workers,
                       handler_error_log& errors, reserved_methods& reserved)
    : ctx_(ctx), replies_(replies), reserved_(reserved), pool_(std::move(workers)),
      policy_{ctx.opts.max_rpc_size, ctx.opts.rpc_expose_errors, &errors} {}

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
    // Answered by the node on this thread, whatever the application serves.
    if (reserved_.on_reserved(caller, h.method, m->body, {in.route, h.id})) return;
    const auto service = services_.find(h.method);
    if (service == services_.end()) {
        ++stats.rpc_unknown_method;
        reply_error(in.routing, h.id, protocol::rpc_no_such_method, "no method '" + std::string(h.method) + "'");
        return;
    }
    if (service->second.where == run_on::handler_thread && pool_->full()) {
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
        run_handler(*service->second.handler, lent, in.route, h.id, policy_, done_);
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
    pool_->queue(std::move(job));
}

void rpc_server::answer(const pending_reply& to, std::int64_t code, const std::string& message,
                        std::span<const std::uint8_t> result) {
    std::array<std::uint8_t, protocol::max_routing_id_size> routing;
    const auto id = protocol::routing_id_of(to.caller, routing);
    zmq::message_t route(id.data(), id.size());
    auto frame = reply_frame({to.id, code, code ? message.substr(0, protocol::max_rpc_message_len) : std::string()},
                             code ? std::span<const std::uint8_t>(packed_nil) : result);
    replies_.send_reply(route, frame);
}

void rpc_server::on_answers() {
    answers_.clear();
    pool_->take_answers(answers_, max_answers_per_round);
    std::array<std::uint8_t, protocol::max_routing_id_size> routing;
    for (auto& a : answers_) {
        const auto id = protocol::routing_id_of(a.caller, routing);
        zmq::message_t to(id.data(), id.size());
        replies_.send_reply(to, a.reply);
    }
    answers_.clear();   // the frames sent: nothing kept until the next round
}

void rpc_server::count_workers() {
    const auto c = pool_->take_counts();
    ctx_.stats.rpc_served += c.taken;
    ctx_.stats.rpc_expired += c.expired;
}

void rpc_server::reply_error(zmq::message_t& routing, std::uint64_t id, std::int64_t code,
                             const std::string& message) {
    auto frame = reply_frame({id, code, message}, packed_nil);
    replies_.send_reply(routing, frame);
}

}  // namespace zmesh::detail
