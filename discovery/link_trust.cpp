// SPDX-License-Identifier: MPL-2.0
// link_trust: the rules, as functions of a peer's state and the message.
#include "link_trust.hpp"

namespace zmesh::discovery {

hello_trust trust_hello(const peer& p, const protocol::hello& h) noexcept {
    // A member known by gossip alone is met by its first HELLO as a newcomer is.
    if (p.state == peer_state::connecting || !p.heard_hello) return hello_trust::joins;
    return p.our_token != 0 && h.echo == p.our_token ? hello_trust::authentic : hello_trust::unverified;
}

bool leave_authentic(const peer& p, std::uint64_t token) noexcept {
    return p.our_token != 0 && token == p.our_token;
}

endpoint_claim claim_endpoints(const peer& holder) noexcept {
    if (holder.state == peer_state::connecting) return endpoint_claim::held;
    const bool failed = holder.state == peer_state::evasive || holder.disconnected_at.has_value();
    return failed ? endpoint_claim::taken_over : endpoint_claim::held;
}

}  // namespace zmesh::discovery
