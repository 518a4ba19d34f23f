// SPDX-License-Identifier: MPL-2.0
// log: level names (<zmesh/log.hpp>), and the logger's formatting and default stderr sink.
#include "logger.hpp"

#include <zmesh/log.hpp>

#include <chrono>
#include <cstdio>

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
    // One fprintf per line: stderr is unbuffered, so lines from several threads never mix.
    std::fprintf(stderr, "%lld.%03lld %s [%s] %.*s\n", static_cast<long long>(ms / 1000),
                 static_cast<long long>(ms % 1000), std::string(to_string(l)).c_str(),
                 name_.c_str(), static_cast<int>(message.size()), message.data());
}

}  // namespace zmesh
