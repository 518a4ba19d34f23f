// SPDX-License-Identifier: MPL-2.0
// stream administration arguments (PROTOCOL.md §15): any bytes decode as a method's arguments
// or are refused with -32602 and a reason, without throwing; what decodes is within §15's
// bounds, and a published payload is one msgpack object viewed inside the arguments.
#include "fuzz_check.hpp"
#include "protocol/msgpack_io.hpp"
#include "protocol/stream_admin.hpp"

#include <variant>

using namespace zmesh::protocol;
using namespace zmesh::protocol::admin;

namespace {

template <class T>
const T* accepted(const parsed<T>& p) {
    if (const auto* e = std::get_if<error>(&p)) {
        FUZZ_CHECK(e->code == bad_arguments && !e->message.empty());
        return nullptr;
    }
    return &std::get<T>(p);
}

bool name_ok(const std::string& s) { return !s.empty() && s.size() <= admin::max_name_len && s.find('\0') == std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> args(data, size);
    // Each parse kept in a variable: accepted() points into it.
    const auto list = decode_list(args);
    if (const auto* a = accepted(list)) FUZZ_CHECK(a->stream.empty() || name_ok(a->stream));
    const auto add = decode_add(args);
    if (const auto* a = accepted(add))
        FUZZ_CHECK(name_ok(a->name) && name_ok(a->prefix) && !a->name.ends_with(".dlq") && a->max_age_ms <= max_age_ms);
    const auto rm = decode_rm(args);
    if (const auto* a = accepted(rm)) FUZZ_CHECK(name_ok(a->name));
    const auto publish = decode_publish(args, 1024);
    if (const auto* a = accepted(publish)) {
        FUZZ_CHECK(name_ok(a->topic) && a->payload.size() <= 1024);
        FUZZ_CHECK(a->payload.data() >= data && a->payload.data() + a->payload.size() <= data + size);
        FUZZ_CHECK(!check_msgpack(a->payload));
    }
    const auto page = decode_dlq_ls(args);
    if (const auto* a = accepted(page)) FUZZ_CHECK(name_ok(a->stream) && a->max >= 1 && a->max <= max_page);
    const auto requeue = decode_requeue(args);
    if (const auto* a = accepted(requeue)) FUZZ_CHECK(name_ok(a->stream) && (a->all != (a->seq > 0)));
    if (const auto d = decode_dead_letter(args)) FUZZ_CHECK(d->seq > 0 && d->error.size() <= 512);
    return 0;
}
