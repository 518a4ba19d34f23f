// SPDX-License-Identifier: MPL-2.0
// log: level names (<zmesh/log.hpp>), and the logger's formatting and default stderr sink.
#include "logger.hpp"

#include <zmesh/log.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace zmesh {

std::optional<log_level> parse_log_level(std::string_view s) {
    if (s == "error") return log_level::error;
    if (s == "warn" || s == "warning") return log_level::warn;
    if (s == "info") return log_level::info;
    if (s == "debug") return log_level::debug;
    return std::nullopt;
}

std::string_view to_string(log_level l) noexcept {
    switch (l) {
        case log_level::error: return "error";
        case log_level::warn: return "warn";
        case log_level::info: return "info";
        case log_level::debug: return "debug";
    }
    return "?";
}

logger::logger(std::string name, log_level level, log_sink sink)
    : name_(std::move(name)), level_(level), sink_(std::move(sink)) {}

void logger::operator()(log_level l, std::string_view message) const {
    if (!enabled(l)) return;
    if (sink_) {
        sink_(l, message);
        return;
    }
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    // ISO 8601 in UTC, to the millisecond: what people and log tools read without converting.
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
    // One fprintf per line: stderr is unbuffered, so lines from several threads never mix.
    std::fprintf(stderr, "%s.%03lldZ %s [%s] %.*s\n", when, static_cast<long long>(ms % 1000),
                 std::string(to_string(l)).c_str(), name_.c_str(), static_cast<int>(message.size()),
                 message.data());
}

}  // namespace zmesh
