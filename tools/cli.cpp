// SPDX-License-Identifier: MPL-2.0
// cli: signals, JSON of peers and events, bodies, tables and errors of the zmesh tools.
#include "cli.hpp"

#include <algorithm>
#include <csignal>
#include <ctime>
#include <iostream>
#include <iterator>

namespace zmesh::cli {

void block_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

int wait_for_signal(std::chrono::milliseconds timeout) {
    if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec ts{static_cast<time_t>(timeout.count() / 1000),
                static_cast<long>(timeout.count() % 1000) * 1000000L};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    return sig > 0 ? sig : 0;
}

nlohmann::json to_json(const peer_info& p) {
    return {{"name", p.name},
            {"id", p.id.hex()},
            {"state", std::string(to_string(p.state))},
            {"endpoints", {{"pub", p.pub_endpoint}, {"router", p.router_endpoint}}},
            {"services", p.services},
            {"subscriptions", p.subscriptions},
            {"last_seen_ms", p.last_seen_ms},
            {"rtt_us", p.rtt_us},
            {"linked", p.linked},
            {"publishes", p.publishes ? nlohmann::json(*p.publishes) : nlohmann::json(nullptr)}};
}

nlohmann::json to_json(const node_stats& s) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, value] : counters_of(s)) j[name] = value;
    return j;
}

nlohmann::json to_json(const event& e) {
    nlohmann::json j = {{"topic", e.topic()},
                        {"sender", {{"id", e.sender().hex()}, {"name", e.sender_name()}}},
                        {"seq", e.seq()},
                        {"sent_us", e.sent_us()}};
    try {
        j["payload"] = nlohmann::json::from_msgpack(e.payload().begin(), e.payload().end());
    } catch (const std::exception& ex) {
        j["payload_error"] = ex.what();
    }
    return j;
}

nlohmann::json parse_body(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) return j;
    const auto first = text.find_first_not_of(" \t\r\n");
    // Meant as JSON and broken: a string of it would hide the mistake.
    if (first != std::string::npos && (text[first] == '{' || text[first] == '[' || text[first] == '"')) {
        try {
            [[maybe_unused]] const auto again = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            throw std::invalid_argument("not JSON: " + std::string(e.what()));
        }
    }
    return text;
}

nlohmann::json parse_text(std::string text) {
    auto j = parse_body(text);
    if (j.is_string() && j.get_ref<const std::string&>() == text) {
        if (text.ends_with('\n')) text.pop_back();
        if (text.ends_with('\r')) text.pop_back();
        j = std::move(text);
    }
    return j;
}

std::vector<std::uint8_t> body_to_msgpack(const std::string& arg, std::istream& in) {
    if (arg != "-") return nlohmann::json::to_msgpack(parse_body(arg));
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) throw std::runtime_error("cannot read the body from stdin");
    return nlohmann::json::to_msgpack(parse_text(std::move(text)));
}

void print_table(const std::vector<std::vector<std::string>>& rows, const char* indent) {
    std::vector<std::size_t> width;
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    for (const auto& r : rows) {
        std::string line = indent;
        for (std::size_t i = 0; i < r.size(); ++i)
            line += r[i] + (i + 1 < r.size() ? std::string(width[i] - r[i].size() + 2, ' ') : "");
        std::cout << line << "\n";
    }
}

int fail(const char* program, const std::string& message) {
    std::cerr << program << ": error: " << message << "\n";
    return 1;
}

}  // namespace zmesh::cli
