// SPDX-License-Identifier: MPL-2.0
// log: the levels of a node's log records, and the sink an application may send them to.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

namespace zmesh {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3 };

// Returns: the level for "error", "warn", "info" or "debug", or nullopt.
std::optional<log_level> parse_log_level(std::string_view s);
std::string_view to_string(log_level l) noexcept;

// Called on the thread that logs (the reactor thread, mostly): must not block for long.
using log_sink = std::function<void(log_level, std::string_view line)>;

}  // namespace zmesh
