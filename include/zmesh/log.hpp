// SPDX-License-Identifier: MPL-2.0
// log: levelled, one-line log records, sent to stderr or to the application's sink.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace zmesh {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3 };

// Returns: the level for "error", "warn", "info" or "debug", or nullopt.
std::optional<log_level> parse_log_level(std::string_view s);
std::string_view to_string(log_level l) noexcept;

// Called on the thread that logs (the reactor thread, mostly): must not block for long.
using log_sink = std::function<void(log_level, std::string_view line)>;

class logger {
public:
    logger(std::string name, log_level level, log_sink sink);
    bool enabled(log_level l) const noexcept { return l <= level_; }
    void operator()(log_level l, std::string_view message) const;

private:
    std::string name_;
    log_level level_;
    log_sink sink_;
};

}  // namespace zmesh
