// SPDX-License-Identifier: MPL-2.0
// node_rpc: serving methods (and the worker threads, started with the first that needs them)
// and calling them, from any thread.
#include "node_threads.hpp"

#include "protocol/limits.hpp"
#include "protocol/msgpack_io.hpp"
#include "protocol/rpc.hpp"

#include <stdexcept>

namespace zmesh {

std::string_view to_string(rpc_errc k) noexcept {
    switch (k) {
        case rpc_errc::timeout: return "timeout";
        case rpc_errc::no_provider: return "no_provider";
        case rpc_errc::peer_lost: return "peer_lost";
        case rpc_errc::remote: return "remote";
        case rpc_errc::busy: return "busy";
        case rpc_errc::decode: return "decode";
        case rpc_errc::stopped: return "stopped";
        case rpc_errc::invalid: return "invalid";
    }
    return "?";
}

void node::start_workers_once() {
    std::call_once(threads_->workers_started, [this] {
        threads_->workers = detail::start_workers(
            *threads_->pool, options_.rpc_workers,
            {options_.max_rpc_size, options_.rpc_expose_errors, &counters_->handler_log});
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

std::future<reply> node::call_named_packed(std::string_view peer_name, std::string_view method,
                                           packed_args args, milliseconds timeout) {
    std::variant<std::promise<reply>, call_callback> done;
    auto future = done.emplace<std::promise<reply>>().get_future();
    if (peer_name.empty()) {   // passed on, it would mean any provider
        std::get<std::promise<reply>>(done).set_exception(
            std::make_exception_ptr(rpc_error(rpc_errc::invalid, "call_named needs a peer name")));
        return future;
    }
    start_call({}, method, true, args.bytes, timeout, std::move(done), run_on::handler_thread, peer_name);
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
                      std::variant<std::promise<reply>, call_callback>&& done, run_on where,
                      std::string_view peer_name) {
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
        return r->call(detail::call_command{peer, std::move(request), timeout, std::move(done), where,
                                            std::string(peer_name)});
    }
    send_command(detail::call_command{peer, std::move(request), timeout, std::move(done), where, std::string(peer_name)});
}

}  // namespace zmesh
