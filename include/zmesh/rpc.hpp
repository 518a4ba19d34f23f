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

    rpc_errc kind() const noexcept { return kind_; }
    std::int64_t code() const noexcept { return code_; }

private:
    rpc_errc kind_;
    std::int64_t code_;
};

namespace detail {
// A string the node may lend, as it lends a payload's bytes: one it keeps alive while the
// reply or request that refers to it is in use (a callback or handler runs), so that one call
// copies no name. A copy takes a string of its own; a move keeps what it had, as payload's.
class lent_string {
public:
    lent_string() = default;
    lent_string(std::string own) : own_(std::move(own)) {}   // NOLINT: implicit
    lent_string(const char* own) : own_(own) {}              // NOLINT: implicit
    static lent_string lend(const std::string& s) {
        lent_string l;
        l.lent_ = &s;
        return l;
    }
    lent_string(const lent_string& other) : own_(other.get()) {}
    lent_string& operator=(const lent_string& other) {
        if (this != &other) {
            own_ = other.get();
            lent_ = nullptr;
        }
        return *this;
    }
    // A lent one moves as its pointer alone: a std::string's move is a call and a copy of
    // its inline buffer, three of them per call the node runs a callback for.
    lent_string(lent_string&& other) noexcept : lent_(other.lent_) {
        if (!lent_) own_ = std::move(other.own_);
    }
    lent_string& operator=(lent_string&& other) noexcept {
        lent_ = other.lent_;
        if (!lent_) own_ = std::move(other.own_);
        return *this;
    }
    ~lent_string() = default;
    const std::string& get() const noexcept { return lent_ ? *lent_ : own_; }

private:
    std::string own_;
    const std::string* lent_ = nullptr;
};
}  // namespace detail

// A successful call's result.
class reply : public payload {
public:
    reply() = default;
    // `from_name` is the node's own, lent, when it runs a callback with the reply (see
    // detail::lent_string); an application passes a std::string.
    reply(node_id from, detail::lent_string from_name, std::span<const std::uint8_t> bytes,
          std::shared_ptr<const void> storage)
        : payload(bytes, std::move(storage)), from_(from), from_name_(std::move(from_name)) {}
    const node_id& from() const noexcept { return from_; }
    const std::string& from_name() const noexcept { return from_name_.get(); }

private:
    node_id from_;
    detail::lent_string from_name_;
};

// What a handler receives: the arguments (as<T>(), object(), bytes()) and who asked.
class request : public payload {
public:
    // The strings are the node's own, lent, when it runs a handler (see detail::lent_string);
    // an application passes std::strings.
    request(detail::lent_string method, node_id caller, detail::lent_string caller_name,
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
    detail::lent_string method_;
    node_id caller_;
    detail::lent_string caller_name_;
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
        detail::vector_writer writer{own_};
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
