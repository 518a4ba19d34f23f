// SPDX-License-Identifier: MPL-2.0
// rpc_client: calls out, their provider, id, deadline and outcome.
#include "client.hpp"

#include "node/pipe.hpp"
#include "protocol/msgpack_io.hpp"

#include <algorithm>

namespace zmesh::detail {

rpc_client::rpc_client(node_context& ctx, shared_counters& counters, outbox& out,
                       const discovery::peer_table& table, peer_port& host, call_links& links)
    : ctx_(ctx), counters_(counters), out_(out), table_(table), host_(host), links_(links) {}

const discovery::peer* rpc_client::joined(const protocol::node_id& peer) const {
    const auto* p = table_.find(peer);
    return p && p->state != peer_state::connecting ? p : nullptr;
}

const discovery::peer* rpc_client::choose_provider(std::string_view method) {
    if (providers_version_ != table_.version()) {
        providers_.clear();   // its peers may be gone
        providers_version_ = table_.version();
    }
    auto known = providers_.find(method);
    if (known == providers_.end()) {
        if (providers_.size() >= max_methods_cached) providers_.clear();
        std::vector<protocol::node_id> found;
        for (const auto& [id, p] : table_.all())
            if (p.state == peer_state::joined && !p.observer &&
                std::binary_search(p.services.begin(), p.services.end(), method))
                found.push_back(id);
        std::sort(found.begin(), found.end());
        known = providers_.emplace(std::string(method), std::move(found)).first;
    }
    const auto& providers = known->second;
    return providers.empty() ? nullptr : least_loaded(providers);
}

const discovery::peer* rpc_client::choose_named(const std::string& name) {
    std::vector<protocol::node_id> named;
    for (const auto& [id, p] : table_.all())
        if (p.state == peer_state::joined && !p.observer && p.name == name) named.push_back(id);
    std::sort(named.begin(), named.end());   // the table's order is not stable: turns need one
    return named.empty() ? nullptr : least_loaded(named);
}

const discovery::peer* rpc_client::least_loaded(const std::vector<protocol::node_id>& providers) {
    if (providers.size() == 1) return joined(providers.front());
    // Least calls pending first; among equals, the next in turn.
    const protocol::node_id* target = nullptr;
    std::size_t fewest = 0;
    const auto start = round_robin_++ % providers.size();
    for (std::size_t i = 0; i < providers.size(); ++i) {
        const auto& id = providers[(start + i) % providers.size()];
        const auto it = pending_by_peer_.find(id);
        const auto pending = it == pending_by_peer_.end() ? 0 : it->second;
        if (!target || pending < fewest) {
            target = &id;
            fewest = pending;
        }
    }
    return joined(*target);
}

void rpc_client::call(call_command&& c, clock::time_point now) {
    ++ctx_.stats.rpc_calls;
    const std::span<std::uint8_t> bytes(c.request.data<std::uint8_t>(), c.request.size());
    const auto m = protocol::decode_request(bytes);   // node::start_call's frame: it decodes
    if (!m) {
        fail_soon(calls_.add(protocol::node_id(), std::move(c.done), c.where, now + c.timeout),
                  rpc_error(rpc_errc::invalid, "the request frame does not decode"));
        return;
    }
    const auto method = m->header.method;
    const bool by_name = !c.peer && !c.peer_name.empty();
    const auto* target = c.peer ? joined(*c.peer) : by_name ? choose_named(c.peer_name) : choose_provider(method);
    const auto id = calls_.add(target ? target->id : protocol::node_id(), std::move(c.done), c.where, now + c.timeout);
    if (!target) {
        ++ctx_.stats.rpc_no_provider;
        fail_soon(id, rpc_error(rpc_errc::no_provider,
                                c.peer    ? "peer " + c.peer->short_hex() + " is not joined"
                                : by_name ? "no joined member is named '" + c.peer_name + "'"
                                          : "no joined peer serves '" + std::string(method) + "'"));
        return;
    }
    // The same header with the id, over the one there: its size and the method's and
    // arguments' places do not change (encode_request).
    protocol::encode_request({id, method, m->header.timeout_ms}, m->body, bytes);
    // A link queues up to its HWM; past it the call fails now rather than waits unseen.
    auto* call_link = target->takes_call_links ? links_.open(target->id, target->router_endpoint, target->our_token)
                                               : nullptr;
    if (call_link) host_.peer_called(target->id);
    if (!(call_link ? call_link->send(c.request) : host_.send_on_link(target->id, c.request))) {
        ++ctx_.stats.sends_dropped;
        fail_soon(id, rpc_error(rpc_errc::peer_lost, "send queue to " + target->name + " is full, or its connection ended"));
        return;
    }
    ++pending_by_peer_[target->id];
    deadlines_.emplace(now + c.timeout, id);
    forget_answered_deadlines();
}

void rpc_client::forget_answered_deadlines() {
    // Answered calls leave their entry behind until its time comes: at thousands of calls a
    // second with long timeouts that grows without end. Past twice the calls pending, the
    // heap is rebuilt from them (linear, so amortized a constant per call).
    if (deadlines_.size() <= 2 * calls_.size() + 1024) return;
    std::vector<deadline_entry> live;
    live.reserve(calls_.size());
    calls_.for_each([&](std::uint64_t call_id, const pending_call& call) { live.emplace_back(call.deadline, call_id); });
    deadlines_ = decltype(deadlines_)(std::greater<>(), std::move(live));
}

void rpc_client::complete_failed() {
    // Only what failed until now: a callback run here may make a call that fails too, which
    // is completed the next time.
    std::swap(failed_, failing_);
    for (auto& f : failing_) complete(f.id, std::move(f.why));
    failing_.clear();
}

void rpc_client::on_reply(const discovery::peer& from, zmq::message_t& frame,
                          const protocol::reply_message& m) {
    const auto& h = m.header;
    auto* call = calls_.find(h.id);
    if (!call || call->peer != from.id) {
        ++ctx_.stats.rpc_stray_replies;   // timed out already, or not an answer to us
        return;
    }
    if (h.code != protocol::rpc_ok) {
        ++ctx_.stats.rpc_remote_errors;
        // Busy is the server's state, not the handler's answer: the caller may try again.
        complete(h.id, h.code == protocol::rpc_busy ? rpc_error(rpc_errc::busy, h.code, std::string(h.message))
                                                    : rpc_error(h.code, std::string(h.message)));
        return;
    }
    if (m.body.size() > ctx_.opts.max_rpc_size || protocol::check_msgpack(m.body)) {
        ++ctx_.stats.frames_invalid;
        complete(h.id, rpc_error(rpc_errc::decode, "the result from " + from.name + " is not one msgpack object"));
        return;
    }
    ++ctx_.stats.rpc_ok;
    if (auto* callback = std::get_if<call_callback>(&call->done); callback && call->where == run_on::reactor) {
        // Run right here: lent the result inside the frame (a copy of the reply takes its
        // own bytes), and no outcome built to be taken apart again. The slot is free before
        // the callback runs: its next call may take it.
        const auto done = std::move(*callback);
        drop_call(h.id, from.id);
        const call_result result(reply(from.id, lent_string::lend(from.name), m.body, nullptr));
        counters_.run_guarded("a call callback", [&] { done(result); });
        return;
    }
    // The caller's view is the result inside the received frame: no copy.
    auto [shared, view] = share_part(frame, m.body);
    complete(h.id, reply(from.id, from.name, view, std::move(shared)));
}

void rpc_client::read_call_links(clock::time_point now, const std::function<bool()>& between) {
    links_.read(
        [&](const protocol::node_id& peer, zmq::message_t& frame) {
            const auto* from = joined(peer);
            if (!from) {
                ++ctx_.stats.frames_unknown_sender;
                return;
            }
            const auto m = protocol::decode_reply(bytes_of(frame));
            if (!m) {   // wrong version or type included: nothing else comes back on a link
                ++ctx_.stats.frames_invalid;
                return;
            }
            host_.peer_alive(peer, now);
            on_reply(*from, frame, *m);
        },
        between);
}

void rpc_client::drop_call(std::uint64_t id, const protocol::node_id& peer) {
    calls_.erase(id);
    if (const auto it = pending_by_peer_.find(peer); it != pending_by_peer_.end() && it->second > 0) --it->second;
}

void rpc_client::complete(std::uint64_t id, std::variant<reply, rpc_error> outcome) {
    auto* found = calls_.find(id);
    if (!found) return;
    auto call = std::move(*found);
    drop_call(id, call.peer);
    finish(call, std::move(outcome));
}

void rpc_client::finish(pending_call& call, std::variant<reply, rpc_error>&& outcome) {
    if (auto* promise = std::get_if<std::promise<reply>>(&call.done)) {
        // Setting a promise runs no application code: done here, without a thread hop.
        if (auto* r = std::get_if<reply>(&outcome))
            promise->set_value(std::move(*r));
        else
            promise->set_exception(std::make_exception_ptr(std::get<rpc_error>(outcome)));
        return;
    }
    auto& callback = std::get<call_callback>(call.done);
    call_result result = std::holds_alternative<reply>(outcome) ? call_result(std::get<reply>(std::move(outcome)))
                                                                : call_result(std::get<rpc_error>(std::move(outcome)));
    if (call.where == run_on::reactor) {
        counters_.run_guarded("a call callback", [&] { callback(result); });
        return;
    }
    out_.completion({std::move(callback), std::move(result)});
}

void rpc_client::peer_left(const protocol::node_id& peer, const std::string& why) {
    links_.close(peer);
    std::vector<std::uint64_t> ids;
    calls_.for_each([&](std::uint64_t id, const pending_call& call) {
        if (call.peer == peer) ids.push_back(id);
    });
    for (const auto id : ids) {
        ++ctx_.stats.rpc_peer_lost;
        complete(id, rpc_error(rpc_errc::peer_lost, why));
    }
    pending_by_peer_.erase(peer);
}

void rpc_client::expire(clock::time_point now) {
    while (!deadlines_.empty() && deadlines_.top().first <= now) {
        const auto id = deadlines_.top().second;
        deadlines_.pop();
        if (!calls_.find(id)) continue;   // answered already
        ++ctx_.stats.rpc_timeouts;
        complete(id, rpc_error(rpc_errc::timeout, "no reply in time"));
    }
}

rpc_client::clock::time_point rpc_client::next_deadline() const {
    return deadlines_.empty() ? clock::time_point::max() : deadlines_.top().first;
}

void rpc_client::fail_all(rpc_error why) {
    complete_failed();
    std::vector<std::uint64_t> ids;
    calls_.for_each([&](std::uint64_t id, const pending_call&) { ids.push_back(id); });
    for (const auto id : ids) complete(id, why);
    links_.close_all();
}

}  // namespace zmesh::detail
