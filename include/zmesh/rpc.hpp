// SPDX-License-Identifier: MPL-2.0
// rpc: the types of a remote call, as the caller and the server see them.
//
//   server:  n.serve("inventory.reserve", [](const zmesh::request& r) -> zmesh::response {
//                auto order = r.as<order_t>();
//                if (!in_stock(order)) return zmesh::rpc_error(409, "out of stock");
//                return reservation{...};          // anything msgpack-cxx packs
//            });
//   caller:  auto f = n.call("inventory.reserve", order, 500ms);   // std::future<reply>
//            try { auto r = f.get().as<reservation>(); }
//            catch (const zmesh::rpc_error& e) { e.kind(), e.code(), e.what() }
#pragma once

#include <zmesh/lent_string.hpp>
#include <zmesh/node_id.hpp>
#include <zmesh/payload.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace zmesh {

// Why a call failed. Every kind but `remote` is decided by the caller's own node.
enum class rpc_errc {
    timeout,       // no reply within the call's timeout
    no_provider,   // no joined peer serves the method (or the named peer is unknown)
    peer_lost,     // the peer left or expired while the call was pending: failed at once
    remote,        // the server replied with an error: see code() and message
    busy,          // the server's queue was full (code() -32000): nothing ran; try again later
    decode,        // the result is not the type asked for (from reply::as, as decode_error)
    stopped,       // this node stopped before the reply came
    invalid,       // the call itself was refused locally (bad method name, too large)
};

std::string_view to_string(rpc_errc k) noexcept;

// A failed call, as futures throw it and callbacks receive it; and what a handler returns
// (or throws) to send an error reply: rpc_error(code, message).
class rpc_error : public std::runtime_error {
public:
    // A remote error: `code` is the application's (0 is reserved for success; the server
    // itself uses the -32xxx codes of PROTOCOL.md §10.5).
    rpc_error(std::int64_t code, const std::string& message)
        : std::runtime_error(message), kind_(rpc_errc::remote), code_(code) {}
    rpc_error(rpc_errc kind, const std::string& message)
        : std::runtime_error(message), kind_(kind), code_(0) {}
    // A failure of `kind` that came with the server's `code` (busy).
    rpc_error(rpc_errc kind, std::int64_t code, const std::string& message)
        : std::runtime_error(message), kind_(kind), code_(code) {}

    rpc_errc kind() const noexcept { return kind_; }
    std::int64_t code() const noexcept { return code_; }

private:
    rpc_errc kind_;
    std::int64_t code_;
};

// A successful call's result.
class reply : public payload {
public:
    reply() = default;
    // `from_name` is the node's own, lent, when it runs a callback with the reply (see
    // lent_string); an application passes a std::string.
    reply(node_id from, lent_string from_name, std::span<const std::uint8_t> bytes,
          std::shared_ptr<const void> storage)
        : payload(bytes, std::move(storage)), from_(from), from_name_(std::move(from_name)) {}
    const node_id& from() const noexcept { return from_; }
    const std::string& from_name() const noexcept { return from_name_.get(); }

private:
    node_id from_;
    lent_string from_name_;
};

// What a handler receives: the arguments (as<T>(), object(), bytes()) and who asked.
class request : public payload {
public:
    // The strings are the node's own, lent, when it runs a handler (see lent_string);
    // an application passes std::strings.
    request(lent_string method, node_id caller, lent_string caller_name,
            std::chrono::steady_clock::time_point deadline, std::span<const std::uint8_t> bytes,
            std::shared_ptr<const void> storage)
        : payload(bytes, std::move(storage)), method_(std::move(method)), caller_(caller),
          caller_name_(std::move(caller_name)), deadline_(deadline) {}
    const std::string& method() const noexcept { return method_.get(); }
    const node_id& caller() const noexcept { return caller_; }
    const std::string& caller_name() const noexcept { return caller_name_.get(); }
    // After this the caller has given up: a handler may stop early.
    std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }

private:
    lent_string method_;
    node_id caller_;
    lent_string caller_name_;
    std::chrono::steady_clock::time_point deadline_;
};

// What a handler returns: any value msgpack-cxx packs, a payload passed on as it is (an
// echo, or part of the arguments), or an rpc_error.
class response {
public:
    template <class T, class = std::enable_if_t<!std::is_base_of_v<payload, std::decay_t<T>> &&
                                                !std::is_same_v<std::decay_t<T>, rpc_error> &&
                                                !std::is_same_v<std::decay_t<T>, response>>>
    response(const T& value) {   // NOLINT: implicit, so a handler can `return value;`
        own_.reserve(64);
        vector_writer writer{own_};
        msgpack::pack(writer, value);
    }
    // Passed on without a copy when the payload shares its storage, or when its bytes lie in
    // the arguments the node lends the handler now running (the node sends the reply before
    // it lets them go); copied otherwise, as a payload's copy is. A copy of the response
    // takes bytes of its own; a move keeps what it had.
    response(const payload& p);                           // NOLINT: implicit
    response(rpc_error e) : error_(std::move(e)) {}       // NOLINT

    bool ok() const noexcept { return !error_; }
    // The result: one msgpack object (empty for an error).
    std::span<const std::uint8_t> bytes() const noexcept {
        return passed_on_ ? passed_.bytes() : std::span<const std::uint8_t>(own_);
    }
    const std::optional<rpc_error>& error() const noexcept { return error_; }

private:
    // msgpack-cxx packs into anything with write(): straight into own_, which grows from a
    // few dozen bytes, where an sbuffer starts with an 8 KiB allocation.
    struct vector_writer {
        std::vector<std::uint8_t>& out;
        void write(const char* data, std::size_t size) {
            out.insert(out.end(), reinterpret_cast<const std::uint8_t*>(data),
                       reinterpret_cast<const std::uint8_t*>(data) + size);
        }
    };

    std::vector<std::uint8_t> own_;   // a packed value, or a copy
    payload passed_;                  // a payload passed on, shared or lent
    bool passed_on_ = false;
    std::optional<rpc_error> error_;
};

using rpc_handler = std::function<response(const request&)>;

// A call's outcome, for the callback overload: a reply or an rpc_error.
class call_result {
public:
    call_result(reply r) : v_(std::move(r)) {}       // NOLINT
    call_result(rpc_error e) : v_(std::move(e)) {}   // NOLINT
    bool ok() const noexcept { return v_.index() == 0; }
    // Precondition: ok() / !ok().
    const reply& value() const { return std::get<reply>(v_); }
    const rpc_error& error() const { return std::get<rpc_error>(v_); }

private:
    std::variant<reply, rpc_error> v_;
};

using call_callback = std::function<void(const call_result&)>;

}  // namespace zmesh
