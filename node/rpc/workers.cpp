// SPDX-License-Identifier: MPL-2.0
// workers: running handlers and turning whatever they do into a REPLY.
#include "workers.hpp"

#include "node/pipe.hpp"
#include "protocol/rpc.hpp"
#include "worker_pool.hpp"

#include <array>

namespace zmesh::detail {

namespace {

// The pool whose worker this thread is, if any.
thread_local const worker_pool* pool_of_this_thread = nullptr;

// The bytes lent to the handler running on this thread, if any (see response).
thread_local std::span<const std::uint8_t> lent_to_handler;

// Marks `bytes` lent to the handler about to run on this thread, until it returns.
class lent_scope {
public:
    explicit lent_scope(std::span<const std::uint8_t> bytes) : before_(lent_to_handler) {
        lent_to_handler = bytes;
    }
    lent_scope(const lent_scope&) = delete;
    lent_scope& operator=(const lent_scope&) = delete;
    ~lent_scope() { lent_to_handler = before_; }

private:
    std::span<const std::uint8_t> before_;
};

// Returns: whether `inner` lies within `outer`. Compared as addresses: `inner` may belong to
// another object entirely.
bool lies_within(std::span<const std::uint8_t> inner, std::span<const std::uint8_t> outer) {
    const auto at = reinterpret_cast<std::uintptr_t>(inner.data());
    const auto begin = reinterpret_cast<std::uintptr_t>(outer.data());
    return at >= begin && at + inner.size() <= begin + outer.size();
}

bool lent_now(std::span<const std::uint8_t> bytes) {
    return !lent_to_handler.empty() && lies_within(bytes, lent_to_handler);
}

void set_header(rpc_done& out, const protocol::sender_route& reply_to, std::uint64_t id,
                std::int64_t code, std::string message) {
    out.caller = reply_to;
    out.id = id;
    out.code = code;
    out.message = std::move(message);
}

void set_error(rpc_done& out, const protocol::sender_route& reply_to, std::uint64_t id,
               std::int64_t code, std::string message) {
    if (message.size() > protocol::max_rpc_message_len) message.resize(protocol::max_rpc_message_len);
    if (code == protocol::rpc_ok) code = protocol::rpc_handler_failed;   // 0 means success
    set_header(out, reply_to, id, code, std::move(message));
    out.result.reset();
}

}  // namespace

std::span<const std::uint8_t> rpc_done::body() const noexcept {
    return result ? result->bytes() : std::span<const std::uint8_t>(packed_nil);
}

zmq::message_t reply_frame(const protocol::reply_header& h, std::span<const std::uint8_t> body) {
    zmq::message_t frame(protocol::reply_size(h, body.size()));
    protocol::encode_reply(h, body, {frame.data<std::uint8_t>(), frame.size()});
    return frame;
}

namespace {

// A handler failed with `error` (an exception's text): the caller is told `code` and, unless
// the policy exposes errors, a fixed text; the server's log has the text either way.
void set_failure(rpc_done& out, const protocol::sender_route& reply_to, std::uint64_t id, const request& req,
                 const handler_policy& policy, std::int64_t code, std::string_view error) {
    if (policy.errors) policy.errors->report("the handler of '" + req.method() + "'", error);
    const bool bad_params = code == protocol::rpc_bad_request;
    if (policy.expose_errors)
        return set_error(out, reply_to, id, code, (bad_params ? "invalid params: " : "") + std::string(error));
    set_error(out, reply_to, id, code,
              bad_params ? "invalid params: the arguments are not of the type the method takes" : "internal error");
}

}  // namespace

void run_handler(const rpc_handler& handler, const request& req,
                 const protocol::sender_route& reply_to, std::uint64_t id,
                 const handler_policy& policy, rpc_done& out) {
    try {
        const lent_scope lent(req.bytes());
        response r = handler(req);
        if (const auto& e = r.error()) return set_error(out, reply_to, id, e->code(), e->what());
        if (r.bytes().size() > policy.max_result_size)
            return set_error(out, reply_to, id, protocol::rpc_handler_failed,
                             "result of " + std::to_string(r.bytes().size()) +
                                 " bytes is over the size limit");
        set_header(out, reply_to, id, protocol::rpc_ok, {});
        out.result.emplace(std::move(r));
    } catch (const rpc_error& e) {
        // The application's own error reply; any other kind is a call of its that failed.
        if (e.kind() == rpc_errc::remote) return set_error(out, reply_to, id, e.code(), e.what());
        set_failure(out, reply_to, id, req, policy, protocol::rpc_handler_failed, e.what());
    } catch (const decode_error& e) {
        set_failure(out, reply_to, id, req, policy, protocol::rpc_bad_request, e.what());
    } catch (const std::exception& e) {
        set_failure(out, reply_to, id, req, policy, protocol::rpc_handler_failed, e.what());
    } catch (...) {
        set_failure(out, reply_to, id, req, policy, protocol::rpc_handler_failed, "something not derived from std::exception");
    }
}

void run_job(const rpc_job& job, const handler_policy& policy, rpc_done& out) {
    // The job outlives the handler: its strings are lent, not copied.
    const request req(lent_string::lend(job.method), job.caller.id, lent_string::lend(job.caller_name),
                      job.deadline, job.args.bytes, job.args.frame);
    run_handler(*job.handler, req, job.caller, job.id, policy, out);
}

bool is_worker_of(const worker_pool& pool) noexcept { return pool_of_this_thread == &pool; }

std::vector<std::jthread> start_workers(worker_pool& pool, std::size_t count, handler_policy policy) {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < count; ++i) {
        threads.emplace_back([&pool, policy]() noexcept {
            name_this_thread("zmesh-rpc");
            pool_of_this_thread = &pool;
            rpc_done done;
            while (auto job = pool.take()) {
                run_job(*job, policy, done);
                pool.answer({done.caller, done.frame()});
                done.result.reset();   // it is in the frame: not kept until the next job
            }
        });
    }
    return threads;
}

}  // namespace zmesh::detail

namespace zmesh {

response::response(const payload& p) {
    if (p.storage_ || detail::lent_now(p.bytes())) {
        passed_ = payload(p.bytes(), p.storage_);   // shared, or still lent: no copy
        passed_on_ = true;
    } else {
        own_.assign(p.bytes().begin(), p.bytes().end());
    }
}

}  // namespace zmesh
