// SPDX-License-Identifier: MPL-2.0
// reactor, RPC half: calls out (provider choice, correlation by request id, deadlines,
// failing calls at once when their peer goes) and requests in (queued for the worker
// threads, replies sent back through our ROUTER on the caller's link).
#include "reactor.hpp"

#include "pipe.hpp"
#include "protocol/msgpack_io.hpp"
#include "protocol/rpc.hpp"

#include <algorithm>

namespace zmesh::detail {

// ---- calls out --------------------------------------------------------------------------

void reactor::post(call_command&& c) {
    if (stopping_) {
        posted_.emplace_back(command(std::move(c)));   // refused with the rest (see run())
        return;
    }
    start_call(c.peer, c.request, c.timeout, std::move(c.done), c.where, true);
}

void reactor::call_here(const std::optional<node_id>& peer, zmq::message_t& request,
                        milliseconds timeout, call_done&& done, run_on where) {
    if (stopping_)
        post(call_command{peer, std::move(request), timeout, std::move(done), where});
    else
        start_call(peer, request, timeout, std::move(done), where, true);
}

void reactor::fail_call(std::uint64_t id, rpc_error why, bool defer) {
    if (defer)
        posted_.emplace_back(failed_call{id, std::move(why)});
    else
        complete_call(id, std::move(why));
}

reactor::link_entry* reactor::joined_link(const node_id& peer) {
    const auto* p = table_.find(peer);
    if (!p || p->state == peer_state::connecting) return nullptr;
    const auto l = links_.find(peer);
    return l == links_.end() ? nullptr : &*l;
}

reactor::link_entry* reactor::choose_provider(std::string_view method) {
    if (providers_version_ != table_.version()) {
        providers_.clear();   // links in it may be gone
        providers_version_ = table_.version();
    }
    auto known = providers_.find(method);
    if (known == providers_.end()) {
        if (providers_.size() >= max_methods_cached) providers_.clear();
        std::vector<link_entry*> found;
        for (const auto& [id, p] : table_.all())
            if (p.state == peer_state::joined && !p.observer &&
                std::binary_search(p.services.begin(), p.services.end(), method))
                if (const auto l = links_.find(id); l != links_.end()) found.push_back(&*l);
        std::sort(found.begin(), found.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
        known = providers_.emplace(std::string(method), std::move(found)).first;
    }
    const auto& providers = known->second;
    if (providers.size() <= 1) return providers.empty() ? nullptr : providers.front();
    // Least calls pending first; among equals, the next in turn.
    link_entry* target = nullptr;
    const auto start = round_robin_++ % providers.size();
    for (std::size_t i = 0; i < providers.size(); ++i) {
        auto* p = providers[(start + i) % providers.size()];
        if (!target || p->second.calls_pending < target->second.calls_pending) target = p;
    }
    return target;
}

void reactor::start_call(const std::optional<node_id>& peer, zmq::message_t& request,
                         milliseconds timeout, call_done&& done, run_on where, bool defer_failure) {
    ++stats_.rpc_calls;
    const auto now = call_clock();
    const std::span<std::uint8_t> bytes(request.data<std::uint8_t>(), request.size());
    const auto method = protocol::open_request_method(bytes);
    auto* target = peer ? joined_link(*peer) : choose_provider(method);
    const auto id = calls_.add(target ? target->first : node_id(), std::move(done), where, now + timeout);
    if (!target) {
        ++stats_.rpc_no_provider;
        fail_call(id,
                  rpc_error(rpc_errc::no_provider,
                            peer ? "peer " + peer->short_hex() + " is not joined"
                                 : "no joined peer serves '" + std::string(method) + "'"),
                  defer_failure);
        return;
    }
    protocol::set_request_id(bytes, id);
    // A link queues up to its HWM; past it the call fails now rather than waits unseen.
    auto& l = target->second;
    auto* calls = l.takes_call_links ? call_link(target->first, l) : nullptr;
    if (!(calls ? send_call(l, *calls, request) : send_on(l, request))) {
        ++stats_.sends_dropped;
        const auto* p = table_.find(target->first);
        fail_call(id,
                  rpc_error(rpc_errc::peer_lost, "send queue to " + (p ? p->name : target->first.short_hex()) +
                                                     " is full, or its connection ended"),
                  defer_failure);
        return;
    }
    ++l.calls_pending;
    call_deadlines_.emplace(now + timeout, id);
    // Answered calls leave their entry behind until its time comes: at thousands of calls a
    // second with long timeouts that grows without end. Past twice the calls pending, the
    // heap is rebuilt from them (linear, so amortized a constant per call).
    if (call_deadlines_.size() > 2 * calls_.size() + 1024) {
        std::vector<deadline_entry> live;
        live.reserve(calls_.size());
        calls_.for_each([&](std::uint64_t call_id, const pending_call& call) {
            live.emplace_back(call.deadline, call_id);
        });
        call_deadlines_ = decltype(call_deadlines_)(std::greater<>(), std::move(live));
    }
}

void reactor::on_reply(discovery::peer& from, zmq::message_t& frame,
                       const protocol::rpc_message<protocol::reply_view>& m, link* via) {
    const auto& h = m.header;
    auto* call = calls_.find(h.id);
    if (!call || call->peer != from.id) {
        ++stats_.rpc_stray_replies;   // timed out already, or not an answer to us
        return;
    }
    if (h.code != protocol::rpc_ok) {
        ++stats_.rpc_remote_errors;
        complete_call(h.id, rpc_error(h.code, std::string(h.message)), via);
        return;
    }
    if (m.body.size() > opts_.max_rpc_size || protocol::check_msgpack(m.body)) {
        ++stats_.frames_invalid;
        complete_call(h.id, rpc_error(rpc_errc::decode, "the result from " + from.name +
                                                            " is not one msgpack object"), via);
        return;
    }
    ++stats_.rpc_ok;
    if (auto* callback = std::get_if<call_callback>(&call->done); callback && call->where == run_on::reactor) {
        // Run right here: lent the result inside the frame (a copy of the reply takes its
        // own bytes), and no outcome built to be taken apart again. Only the callback leaves
        // the slot, not the whole call, and the slot is free before the callback runs: its
        // next call may take it.
        const auto done = std::move(*callback);
        drop_call(h.id, from.id, via);
        const call_result result(reply(from.id, detail::lent_string::lend(from.name), m.body, nullptr));
        counters_->run_guarded([&] { done(result); });
        return;
    }
    // The caller's view is the result inside the received frame: no copy.
    auto [shared, view] = share_part(frame, m.body);
    complete_call(h.id, reply(from.id, from.name, view, std::move(shared)), via);
}

void reactor::drop_call(std::uint64_t id, const node_id& peer, link* via) {
    calls_.erase(id);
    if (!via) {
        const auto l = links_.find(peer);
        via = l == links_.end() ? nullptr : &l->second;
    }
    if (via && via->calls_pending > 0) --via->calls_pending;
}

void reactor::complete_call(std::uint64_t id, std::variant<reply, rpc_error> outcome, link* via) {
    auto* found = calls_.find(id);
    if (!found) return;
    auto call = std::move(*found);
    drop_call(id, call.peer, via);
    finish_call(call, std::move(outcome));
}

void reactor::finish_call(pending_call& call, std::variant<reply, rpc_error>&& outcome) {
    if (auto* promise = std::get_if<std::promise<reply>>(&call.done)) {
        // Setting a promise runs no application code: done here, without a thread hop.
        if (auto* r = std::get_if<reply>(&outcome))
            promise->set_value(std::move(*r));
        else
            promise->set_exception(std::make_exception_ptr(std::get<rpc_error>(outcome)));
        return;
    }
    auto& callback = std::get<call_callback>(call.done);
    call_result result = std::holds_alternative<reply>(outcome)
                             ? call_result(std::get<reply>(std::move(outcome)))
                             : call_result(std::get<rpc_error>(std::move(outcome)));
    if (call.where == run_on::reactor) {
        counters_->run_guarded([&] { callback(result); });
        return;
    }
    // Events received before this outcome are handled before it.
    if (!batch_.empty()) flush_deliveries();
    completions_.push_back({std::move(callback), std::move(result)});
}

void reactor::fail_calls_to(const node_id& peer, rpc_errc why, const std::string& message) {
    std::vector<std::uint64_t> ids;
    calls_.for_each([&](std::uint64_t id, const pending_call& call) {
        if (call.peer == peer) ids.push_back(id);
    });
    for (const auto id : ids) {
        if (why == rpc_errc::peer_lost) ++stats_.rpc_peer_lost;
        complete_call(id, rpc_error(why, message));
    }
}

void reactor::expire_calls(clock::time_point now) {
    while (!call_deadlines_.empty() && call_deadlines_.top().first <= now) {
        const auto id = call_deadlines_.top().second;
        call_deadlines_.pop();
        if (!calls_.find(id)) continue;   // answered already
        ++stats_.rpc_timeouts;
        complete_call(id, rpc_error(rpc_errc::timeout, "no reply in time"));
    }
}

clock::time_point reactor::next_call_deadline() const {
    return call_deadlines_.empty() ? clock::time_point::max() : call_deadlines_.top().first;
}

// ---- requests in ------------------------------------------------------------------------

void reactor::handle(serve_command& c) {
    if (c.handler) {
        services_[c.method] = {std::move(c.handler), c.where};
    } else if (!services_.erase(c.method)) {
        return;
    }
    // Peers learn the new list from a fresh HELLO. One still handshaking may already hold our
    // old HELLO: ask it to answer, so the handshake completes with the new list.
    for (const auto& [id, p] : table_.all())
        send_to(id, hello_message(&p, p.state == peer_state::connecting));
}

std::vector<std::string> reactor::service_names() const {
    std::vector<std::string> names;
    for (const auto& [name, handler] : services_) names.push_back(name);
    return names;   // a std::map: sorted and unique, as HELLO wants
}

void reactor::on_rpc(discovery::peer& from, routed_frame& in, std::uint8_t type, clock::time_point now) {
    if (type == protocol::request_type)
        on_request(from, in, now);
    else if (const auto m = protocol::read_reply(in.bytes))
        on_reply(from, in.frame, *m);
    else
        ++stats_.frames_invalid;
}

void reactor::on_request(discovery::peer& from, routed_frame& in, clock::time_point now) {
    const auto& route = in.route;
    const auto m = protocol::read_request(in.bytes);
    if (!m) {
        ++stats_.rpc_bad_requests;   // no id to answer to: dropped
        return;
    }
    const auto& h = m->header;
    if (m->body.size() > opts_.max_rpc_size || protocol::check_msgpack(m->body)) {
        ++stats_.rpc_bad_requests;
        reply_error(in.routing, h.id, protocol::rpc_bad_request, "arguments are not one msgpack object");
        return;
    }
    const auto service = services_.find(h.method);
    if (service == services_.end()) {
        ++stats_.rpc_unknown_method;
        reply_error(in.routing, h.id, protocol::rpc_no_such_method,
                    "no method '" + std::string(h.method) + "'");
        return;
    }
    if (service->second.where == run_on::handler_thread && jobs_.size() >= opts_.rpc_queue) {
        ++stats_.rpc_busy;
        reply_error(in.routing, h.id, protocol::rpc_busy, "server busy");
        return;
    }
    const auto deadline = now + milliseconds(std::min<std::uint64_t>(h.timeout_ms, 24ull * 3600 * 1000));
    if (service->second.where == run_on::reactor) {
        if (deadline < now) {   // a zero timeout: the caller has given up already
            ++stats_.rpc_expired;
            return;
        }
        // The handler is lent the arguments inside the frame, which outlives it (a copy of
        // the request takes its own bytes). run_handler catches whatever the handler throws:
        // the reactor only loses the time it takes.
        ++stats_.rpc_served;
        const request lent(lent_string::lend(service->first), from.id, lent_string::lend(from.name),
                           deadline, m->body, nullptr);
        run_handler(*service->second.handler, lent, route, h.id, opts_.max_rpc_size, done_);
        // An echo goes back in the frame it came in (its header, read above, overwritten).
        auto answer = reply_in_place(done_, in.bytes) ? std::move(in.frame)
                                                      : done_.frame();   // while the frame lent lives
        done_.result.reset();   // sent: a big result is not kept until the next handler runs
        send_routed(in.routing, answer);
        return;
    }
    auto job = std::make_unique<rpc_job>();
    job->caller = route;
    job->caller_name = from.name;
    job->id = h.id;
    job->method = service->first;
    job->handler = service->second.handler;
    job->args = share_part(in.frame, m->body);
    job->deadline = deadline;
    jobs_.push_back(std::move(job));
    dispatch_jobs(now);
}

void reactor::dispatch_jobs(clock::time_point now) {
    while (!jobs_.empty() && !worker_slots_.empty()) {
        // The least loaded worker: an idle one when there is one (a slow handler does not
        // collect work others could do), else one whose short queue has room.
        auto worker = std::min_element(worker_slots_.begin(), worker_slots_.end(),
                                       [](const auto& a, const auto& b) { return a.jobs < b.jobs; });
        if (worker->jobs >= worker_credit) break;
        auto job = std::move(jobs_.front());
        jobs_.pop_front();
        if (job->deadline < now) {
            ++stats_.rpc_expired;   // the caller has given up: its timeout answers it
            continue;
        }
        ++stats_.rpc_served;
        ++worker->jobs;
        touched(polled_workers);
        workers_.send(zmq::buffer(worker->id), zmq::send_flags::sndmore);
        send_owned(workers_, std::move(job));
    }
}

bool reactor::read_worker(zmq::message_t& worker, zmq::message_t& caller, zmq::message_t& frame) {
    if (!workers_.recv(worker, zmq::recv_flags::dontwait)) return false;
    // Both of our threads' messages come whole: [worker][empty] or [worker][caller][frame].
    caller.rebuild();
    frame.rebuild();
    if (worker.more()) (void)workers_.recv(caller);
    if (caller.more()) (void)workers_.recv(frame);
    return true;
}

void reactor::on_workers() {
    zmq::message_t worker, caller, frame;
    for (int i = 0; i < max_batch; ++i) {
        if (!read_worker(worker, caller, frame)) break;
        const auto id = worker.to_string_view();
        auto slot = std::find_if(worker_slots_.begin(), worker_slots_.end(),
                                 [&](const auto& w) { return w.id == id; });
        if (caller.size() == 0) {   // a new worker says it is ready
            if (slot == worker_slots_.end()) worker_slots_.push_back({std::string(id), 0});
            continue;
        }
        if (slot != worker_slots_.end() && slot->jobs > 0) --slot->jobs;
        if (protocol::read_routing_id(bytes_of(caller))) send_routed(caller, frame);
    }
    dispatch_jobs(clock::now());
}

void reactor::send_routed(zmq::message_t& routing, zmq::message_t& frame) {
    // Back on the connection the request came by, the caller's link or its call link: its
    // routing id at our ROUTER names it. A reply there keeps it alive under load (any frame
    // answers libzmq's heartbeat), and the round trip uses one TCP connection, not two.
    // ROUTER_MANDATORY: a caller no longer connected, or a full queue, is a counted drop.
    touched(polled_router);   // a send may take the signal of a request waiting to be read
    try {
        if (router_.send(routing, zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
            router_.send(frame, zmq::send_flags::dontwait))
            return;
    } catch (const zmq::error_t&) {
    }
    ++stats_.rpc_replies_dropped;
}

void reactor::reply_error(zmq::message_t& routing, std::uint64_t id, std::int64_t code,
                          const std::string& message) {
    auto frame = reply_frame({id, code, message}, packed_nil);
    send_routed(routing, frame);
}

void reactor::stop_workers() {
    // A worker that has not said "ready" yet (a node stopped right after start) would never
    // hear "quit": wait for every one of them first. Replies still coming are dropped.
    zmq::message_t worker, caller, frame;
    const auto give_up = clock::now() + std::chrono::seconds(10);
    const auto started = counters_->workers_started.load(std::memory_order_acquire);
    while (worker_slots_.size() < started && clock::now() < give_up) {
        zmq_pollitem_t item{workers_.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, milliseconds(100)) <= 0) continue;
        if (read_worker(worker, caller, frame) && caller.size() == 0)
            worker_slots_.push_back({worker.to_string(), 0});
    }
    // Busy workers read this after the jobs they hold (worker_credit at most); jobs still
    // queued here are dropped (their callers see this node leave: peer_lost).
    for (const auto& w : worker_slots_) {
        workers_.send(zmq::buffer(w.id), zmq::send_flags::sndmore);
        send_owned(workers_, std::unique_ptr<rpc_job>());
    }
    jobs_.clear();
}

}  // namespace zmesh::detail
