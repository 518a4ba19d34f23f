// SPDX-License-Identifier: MPL-2.0
// stream_admin_client: calls of the reserved stream methods, and their answers in words.
#include "stream_admin_client.hpp"

#include <cstdio>

namespace zmesh::cli {

namespace {

// The most pages of streams one listing reads: a node holds at most 1024 streams.
constexpr int max_pages = 64;

std::string size_text(std::uint64_t bytes) {
    char buf[32];
    if (bytes < 1024) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else if (bytes < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
    else std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024 * 1024));
    return buf;
}

}  // namespace

std::future<reply> ask_member(node& n, const node_id& peer, std::string_view method, const nlohmann::json& args,
                              std::chrono::milliseconds timeout) {
    return n.call_packed(peer, method, nlohmann::json::to_msgpack(args), timeout);
}

admin_answer answer_of(std::future<reply>& f) {
    admin_answer a;
    try {
        const auto r = f.get();
        a.result = nlohmann::json::from_msgpack(r.bytes().begin(), r.bytes().end());
        a.ok = true;
    } catch (const rpc_error& e) {
        a.code = e.kind() == rpc_errc::remote ? e.code() : 0;
        a.error = e.kind() == rpc_errc::remote ? e.what() : std::string(to_string(e.kind())) + ": " + e.what();
    } catch (const nlohmann::json::exception& e) {
        a.error = std::string("decode: the answer is not JSON-compatible: ") + e.what();
    }
    return a;
}

admin_answer ask(node& n, const node_id& peer, std::string_view method, const nlohmann::json& args,
                 std::chrono::milliseconds timeout) {
    auto f = ask_member(n, peer, method, args, timeout);
    return answer_of(f);
}

admin_answer list_streams(node& n, const node_id& peer, std::chrono::milliseconds timeout) {
    admin_answer all{true, {{"streams", nlohmann::json::array()}}, 0, {}};
    nlohmann::json args = nullptr;
    for (int page = 0; page < max_pages; ++page) {
        auto a = ask(n, peer, "zmesh.streams", args, timeout);
        if (!a.ok) return a;
        for (auto& s : a.result["streams"]) all.result["streams"].push_back(std::move(s));
        if (!a.result.contains("more") || !a.result["more"].is_string()) break;
        args = {{"after", a.result["more"]}};
    }
    return all;
}

std::string describe_stream(const nlohmann::json& s) {
    const auto first = s.value("first_seq", 0ull), last = s.value("last_seq", 0ull);
    std::string line = s.value("name", "?") + ": prefix " +
                       (s.value("prefix", "").empty() ? std::string("(none)") : s.value("prefix", "")) + ", ";
    line += first ? "seq " + std::to_string(first) + ".." + std::to_string(last) : "empty (last seq " + std::to_string(last) + ")";
    line += ", " + std::to_string(s.value("messages", 0ull)) + " message(s), " + size_text(s.value("bytes", 0ull));
    return line;
}

std::string describe_error(const std::string& member, const admin_answer& a) {
    if (a.code == 0) return member + ": " + a.error;
    return member + " (code " + std::to_string(a.code) + "): " + a.error;
}

}  // namespace zmesh::cli
