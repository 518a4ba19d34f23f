// SPDX-License-Identifier: MPL-2.0
// rpc_reference: the RPC header decoders before span_reader, msgpack-cxx's object tree and
// field_reader, kept so that tests can compare the decoders in use against them.
#pragma once

#include "protocol/msgpack_io.hpp"
#include "protocol/rpc.hpp"

#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <optional>
#include <random>
#include <span>
#include <string>

namespace zmesh::test {

using namespace zmesh::protocol;

// The headers with their strings copied, to be kept after the frame they were read from.
struct owned_request {
    std::uint64_t id = 0;
    std::string method;
    std::uint64_t timeout_ms = 0;
    bool operator==(const owned_request&) const = default;
};
struct owned_reply {
    std::uint64_t id = 0;
    std::int64_t code = 0;
    std::string message;
    bool operator==(const owned_reply&) const = default;
};
inline owned_request owned(const request_header& h) { return {h.id, std::string(h.method), h.timeout_ms}; }
inline owned_reply owned(const reply_header& h) { return {h.id, h.code, std::string(h.message)}; }

// Returns: the header of `f` when it is a whole frame's header with nothing after it, as the
// reference reads frames; nullopt for any other frame.
inline std::optional<owned_request> request_alone(std::span<const std::uint8_t> f) {
    const auto m = decode_request(f);
    if (!m || !m->body.empty()) return std::nullopt;
    return owned(m->header);
}
inline std::optional<owned_reply> reply_alone(std::span<const std::uint8_t> f) {
    const auto m = decode_reply(f);
    if (!m || !m->body.empty()) return std::nullopt;
    return owned(m->header);
}

// Returns: the object tree after version and `type`, or nullopt where the reference refused
// the frame before reading any field.
inline std::optional<msgpack::object_handle> tree_of(std::span<const std::uint8_t> f, std::uint8_t type) {
    if (f.size() < 2 || f[0] != version || f[1] != type ||
        f.size() > 2 + max_service_len + max_rpc_message_len + 64)
        return std::nullopt;
    auto handle = unpack_exact(f.subspan(2));
    if (!handle) return std::nullopt;
    return std::move(*handle);
}

// The decoder before span_reader, kept as the reference: msgpack-cxx's object tree and
// field_reader, reading a header with nothing after it. Returns: the header it read, or
// nullopt where it refused the frame.
inline std::optional<owned_request> tree_request(std::span<const std::uint8_t> f) {
    auto handle = tree_of(f, request_type);
    if (!handle) return std::nullopt;
    field_reader r(handle->get(), 3);
    owned_request h{r.uint(), r.str(max_service_len, false), r.uint()};
    if (r.error()) return std::nullopt;
    return h;
}

inline std::optional<owned_reply> tree_reply(std::span<const std::uint8_t> f) {
    auto handle = tree_of(f, reply_type);
    if (!handle) return std::nullopt;
    const auto& a = handle->get();
    if (a.type != msgpack::type::ARRAY || a.via.array.size < 3) return std::nullopt;
    const auto& code = a.via.array.ptr[1];
    std::int64_t c = 0;
    if (code.type == msgpack::type::POSITIVE_INTEGER && code.via.u64 <= INT64_MAX)
        c = static_cast<std::int64_t>(code.via.u64);
    else if (code.type == msgpack::type::NEGATIVE_INTEGER)
        c = code.via.i64;
    else
        return std::nullopt;
    field_reader r(a, 3);
    const auto id = r.uint();
    (void)r.object();   // the code, read above
    owned_reply h{id, c, r.str(max_rpc_message_len)};
    if (r.error()) return std::nullopt;
    return h;
}

// Decodes 20,000 mutations of `base` (1 to `max_edits` bytes after its type changed,
// inserted or dropped) with `decode` (request_alone or reply_alone) and with `reference`:
// each must refuse or accept as the reference does, never throw, and read the same header,
// which is then handed to `on_accepted`. Returns: how many mutations were accepted.
template <class Decode, class Reference, class OnAccepted>
int expect_mutations_as_reference(const bytes& base, int max_edits, std::uint32_t seed, Decode decode,
                                  Reference reference, OnAccepted on_accepted) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> byte(0, 255), op(0, 2);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        bytes f = base;
        for (int k = 1 + i % max_edits; k > 0; --k) {
            const auto p = std::uniform_int_distribution<std::size_t>(2, f.size() - 1)(rng);
            if (const int o = op(rng); o == 0) f[p] = static_cast<std::uint8_t>(byte(rng));
            else if (o == 1) f.insert(f.begin() + long(p), static_cast<std::uint8_t>(byte(rng)));
            else if (f.size() > 3) f.erase(f.begin() + long(p));
        }
        std::optional<decltype(decode(f))> r;
        EXPECT_NO_THROW(r.emplace(decode(f))) << "mutation " << i;
        const auto want = reference(f);
        if (!r || r->has_value() != want.has_value()) {
            ADD_FAILURE() << "mutation " << i << ": decoded " << (r && r->has_value()) << ", reference "
                          << want.has_value();
            return accepted;
        }
        if (!want) continue;
        ++accepted;
        EXPECT_EQ(**r, *want) << "mutation " << i;
        on_accepted(*want);
    }
    return accepted;
}

}  // namespace zmesh::test
