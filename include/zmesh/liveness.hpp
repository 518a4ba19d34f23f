// SPDX-License-Identifier: MPL-2.0
// liveness: the timeouts that decide when a peer is evasive and when it has left
// (options::liveness).
#pragma once

#include <algorithm>
#include <chrono>

namespace zmesh {

using std::chrono::milliseconds;

struct liveness_config {
    milliseconds heartbeat{250};          // link heartbeat (ZMTP PING) period
    milliseconds evasive{1000};           // silence before a peer is suspected
    milliseconds expired{3000};           // silence before a peer is declared left
    milliseconds handshake{3000};         // a dialled peer must answer HELLO within this
    milliseconds disconnect_grace{1000};  // after a dropped connection, time to come back

    // Returns: how long a dropped link may stay down before its peer has left. A link is
    // dropped for silence only after `evasive` of it, so the rest of `expired` is left to
    // come back; a dropped connection gets at least the grace.
    milliseconds down_allowed() const noexcept {
        return std::max(disconnect_grace, expired - evasive);
    }
};

}  // namespace zmesh
