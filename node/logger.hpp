// SPDX-License-Identifier: MPL-2.0
// logger: a node's log, by level, one line per record to the application's sink
// (options::log_to) or to stderr (defined in logger.cpp).
#pragma once

#include <zmesh/log.hpp>

#include <string>
#include <string_view>

namespace zmesh {

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
