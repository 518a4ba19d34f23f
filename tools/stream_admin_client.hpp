// SPDX-License-Identifier: MPL-2.0
// stream_admin_client: the tools' side of PROTOCOL.md §15 — a member's streams and dead
// letters asked through its reserved methods, the answers as JSON, the errors as one line.
#pragma once

#include <zmesh/node.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <string_view>

namespace zmesh::cli {

// A member's answer: the result as JSON, or the error (code 0: the call itself failed, as
// `error` says: timeout, peer_lost, ...).
struct admin_answer {
    bool ok = false;
    nlohmann::json result;
    std::int64_t code = 0;
    std::string error;
};

// The codes of PROTOCOL.md §15 the tools tell apart.
inline constexpr std::int64_t admin_no_data_dir = -32010;
inline constexpr std::int64_t admin_no_such_stream = -32011;
inline constexpr std::int64_t admin_no_such_method = -32601;

// Starts a call of `method` with `args` on member `peer` (whether or not it advertises it).
std::future<reply> ask_member(node& n, const node_id& peer, std::string_view method, const nlohmann::json& args,
                              std::chrono::milliseconds timeout);
// Returns: the answer of a call ask_member started, once it came.
admin_answer answer_of(std::future<reply>& f);
// Calls and waits. Never throws for the call's failure.
admin_answer ask(node& n, const node_id& peer, std::string_view method, const nlohmann::json& args,
                 std::chrono::milliseconds timeout);
// Returns: every stream `peer` holds ({"streams": [...]}, page after page), or the error.
admin_answer list_streams(node& n, const node_id& peer, std::chrono::milliseconds timeout);

// Returns: "orders: prefix orders., 1..42, 42 message(s), 1.2 KiB" (one line of stream ls).
std::string describe_stream(const nlohmann::json& s);
// Returns: "NAME (code N): message" for an error answer, "NAME: timeout: ..." for a call
// that failed.
std::string describe_error(const std::string& member, const admin_answer& a);

}  // namespace zmesh::cli
