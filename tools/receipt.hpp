// SPDX-License-Identifier: MPL-2.0
// receipt: what zmesh sub says on exit about what it received and missed, and its exit status.
#pragma once

#include <cstdint>
#include <string>

namespace zmesh::cli {

struct receipt {
    std::uint64_t wanted = 0;     // --count (0: no count)
    std::uint64_t received = 0;
    std::uint64_t gaps = 0;       // events publishers sent that never came (node_stats::events_gaps)
    std::uint64_t invalid = 0;    // events dropped as malformed
    bool timed_out = false;       // --timeout passed
    bool interrupted = false;     // SIGINT or SIGTERM
    bool senders_left = false;    // every publisher it received from left (cli::senders)
};

// Returns: the lines to print on stderr: what came and what was missed, and why it ended
// short when it did.
std::string report(const receipt& r);

// Returns: 0 when --count events came (without --count: however it ended) and none was
// missed or invalid; 1 otherwise.
int exit_status(const receipt& r);

}  // namespace zmesh::cli
