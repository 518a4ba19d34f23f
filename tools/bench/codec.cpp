// SPDX-License-Identifier: MPL-2.0
// codec: ns per event envelope, in this process. zmesh's hand-rolled header codec and
// payload check against the generic way with msgpack-cxx — pack the same header tuple into a
// buffer; unpack header and payload into object trees and convert — as the baseline.
#include "bench.hpp"
#include "protocol/event.hpp"
#include "protocol/msgpack_io.hpp"

#include <msgpack.hpp>

#include <tuple>

namespace zmesh::bench {
namespace {

using header_tuple = std::tuple<msgpack::type::raw_ref, std::uint64_t, std::uint64_t>;

// Keeps results alive so the optimiser cannot drop the work being timed.
volatile std::uint64_t sink = 0;

// Returns: ns per call of `op` over `count` calls.
template <class Op>
double ns_per_op(std::uint64_t count, Op op) {
    for (std::uint64_t i = 0; i < count / 10 + 1; ++i) op(i);   // warm caches and branches
    const auto t0 = now_ns();
    for (std::uint64_t i = 0; i < count; ++i) op(i);
    return static_cast<double>(now_ns() - t0) / static_cast<double>(count);
}

std::vector<std::uint8_t> packed_payload(std::size_t size) {
    msgpack::sbuffer b;
    msgpack::pack(b, std::vector<unsigned char>(size, 0x5a));   // bin
    return {b.data(), b.data() + b.size()};
}

}  // namespace

int run_codec(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    const auto size = s.get<std::size_t>("size");
    report r("codec", {{"count", count}, {"size", size}});
    r.baseline("msgpack-cxx");
    const auto id = protocol::node_id::random();
    const auto payload = packed_payload(size);
    const std::string topic = "orders.created";
    const auto frame = protocol::encode_event_frame(topic, {id, 1, 2}, payload);   // on the wire
    msgpack::sbuffer buffer(64);
    const auto id_bytes = id.bytes();
    const header_tuple as_tuple{{reinterpret_cast<const char*>(id_bytes.data()), 16}, 1, 2};
    msgpack::sbuffer generic;
    msgpack::pack(generic, as_tuple);

    auto& encode = r.at("encode_ns", "encode header (ns)", false);
    auto& decode = r.at("decode_ns", "decode + check event (ns)", false);
    for (int run = 1; run <= s.runs; ++run) {
        encode.zmesh.push_back(ns_per_op(count, [&](std::uint64_t i) {
            const auto h = protocol::encode_event_header({id, i, i});
            sink = sink + h[30];
        }));
        encode.raw.push_back(ns_per_op(count, [&](std::uint64_t i) {
            buffer.clear();
            msgpack::pack(buffer, header_tuple{std::get<0>(as_tuple), i, i});
            sink = sink + static_cast<std::uint8_t>(buffer.data()[30]);
        }));
        decode.zmesh.push_back(ns_per_op(count, [&](std::uint64_t) {
            const auto e = protocol::decode_event_frame(frame);
            const bool ok = e && !protocol::check_msgpack(e->payload);
            sink = sink + (ok ? e->header.seq : 0);
        }));
        decode.raw.push_back(ns_per_op(count, [&](std::uint64_t) {
            const auto h = msgpack::unpack(generic.data(), generic.size());
            const auto t = h.get().as<header_tuple>();
            const auto p = msgpack::unpack(reinterpret_cast<const char*>(payload.data()), payload.size());
            sink = sink + std::get<1>(t) + p.get().via.bin.size;
        }));
        progress("codec run " + std::to_string(run) + "/" + std::to_string(s.runs));
    }
    r.print(s.json);
    return 0;
}

}  // namespace zmesh::bench
