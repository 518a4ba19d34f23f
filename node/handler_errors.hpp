// SPDX-License-Identifier: MPL-2.0
// handler_errors: the log of what the application's handlers and callbacks throw, at warn,
// one line a second at most per node: a handler that throws on every event must not flood
// the log, yet the first failure is seen at once and none goes unnoticed.
#pragma once

#include "logger.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

namespace zmesh::detail {

class handler_error_log {
public:
    using clock = std::chrono::steady_clock;

    // Where lines go; until set, nothing is logged. Set before the node's threads start.
    void set(logger log) { log_.emplace(std::move(log)); }

    // `what` (a handler, a callback) threw `error`. Logs it unless a line went out less than
    // a second ago; the next line says how many were not logged. Any thread; never throws.
    void report(std::string_view what, std::string_view error) noexcept;

private:
    std::optional<logger> log_;
    std::mutex mutex_;
    std::optional<clock::time_point> last_line_;
    std::uint64_t unlogged_ = 0;
};

}  // namespace zmesh::detail
