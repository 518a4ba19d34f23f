// SPDX-License-Identifier: MPL-2.0
// receipt: zmesh sub's last words.
#include "receipt.hpp"

namespace zmesh::cli {

namespace {
bool short_of_count(const receipt& r) { return r.wanted > 0 && r.received < r.wanted; }
}  // namespace

std::string report(const receipt& r) {
    std::string s = "received " + std::to_string(r.received);
    if (r.wanted) s += " of " + std::to_string(r.wanted);
    s += " event(s), " + std::to_string(r.gaps) + " gap(s) (events missed), " + std::to_string(r.invalid) + " invalid\n";
    if (short_of_count(r) && r.senders_left)
        // What a publisher sent after the last event that came left no gap to count: all it
        // is known by is the shortfall.
        s += "zmesh sub: error: every publisher left short of --count: " + std::to_string(r.wanted - r.received) +
             " of " + std::to_string(r.wanted) + " event(s) not received; " + std::to_string(r.gaps) +
             " missed in gaps\n";
    else if (short_of_count(r))
        s += "zmesh sub: error: " + std::string(r.timed_out ? "timed out" : r.interrupted ? "interrupted" : "stopped") +
             " with " + std::to_string(r.received) + " of " + std::to_string(r.wanted) + " event(s)\n";
    else if (r.gaps > 0 || r.invalid > 0)
        s += "zmesh sub: error: " + std::to_string(r.gaps) + " event(s) missed, " + std::to_string(r.invalid) +
             " invalid\n";
    return s;
}

int exit_status(const receipt& r) { return short_of_count(r) || r.gaps > 0 || r.invalid > 0 ? 1 : 0; }

}  // namespace zmesh::cli
