// SPDX-License-Identifier: MPL-2.0
// handler_errors: one line a second at most, with a count of the lines not written.
#include "handler_errors.hpp"

#include <string>
#include <utility>

namespace zmesh::detail {

void handler_error_log::report(std::string_view what, std::string_view error) noexcept {
    if (!log_ || !log_->enabled(log_level::warn)) return;
    try {
        std::uint64_t unlogged = 0;
        {
            std::lock_guard lock(mutex_);
            const auto now = clock::now();
            if (last_line_ && now - *last_line_ < std::chrono::seconds(1)) {
                ++unlogged_;
                return;
            }
            last_line_ = now;
            unlogged = std::exchange(unlogged_, 0);
        }
        std::string line = std::string(what) + " threw: " + std::string(error);
        if (unlogged > 0) line += " (and " + std::to_string(unlogged) + " more since the last such line, not logged)";
        (*log_)(log_level::warn, line);   // outside the lock: a sink may be slow
    } catch (...) {
        // Out of memory, or a sink that throws: the failure is still counted by the caller.
    }
}

}  // namespace zmesh::detail
