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
    outbox_.completion({std::move(callback), std::move(result)});
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

void reactor::handle(serve_command& c) {
    if (!server_.serve(c)) return;
    // Peers learn the new list from a fresh HELLO. One still handshaking may already hold our
    // old HELLO: ask it to answer, so the handshake completes with the new list.
    for (const auto& [id, p] : table_.all())
        send_to(id, hello_message(&p, p.state == peer_state::connecting));
}

void reactor::on_rpc(discovery::peer& from, routed_frame& in, std::uint8_t type, clock::time_point now) {
    if (type == protocol::request_type)
        server_.on_request(from.id, from.name, in, now);
    else if (const auto m = protocol::read_reply(in.bytes))
        on_reply(from, in.frame, *m);
    else
        ++stats_.frames_invalid;
}

void reactor::send_reply(zmq::message_t& routing, zmq::message_t& frame) {
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

}  // namespace zmesh::detail
