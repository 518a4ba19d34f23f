// SPDX-License-Identifier: MPL-2.0
// reactor, security glue: which frames the ROUTER reads (node/security/ decides), and what
// the node does when the allowlist loses keys: their peers leave as revoked, with nothing
// more of them delivered, and every connection of those keys is cut.
#include "reactor.hpp"

namespace zmesh::detail {

bool reactor::admits(const std::optional<node_id>& claimed, zmq::message_t& frame) {
    std::optional<curve_key> key;
    const bool ok = security_.admits(claimed, frame, key);
    if (key) note_router_connection(frame, *key);   // to cut it if the key is revoked
    return ok;
}

void reactor::drop_revoked() {
    std::vector<node_id> revoked;
    for (const auto& [id, p] : table_.all())
        if (!security_.allows(id)) revoked.push_back(id);
    for (const auto& id : revoked) {
        const std::string pub_endpoint = table_.find(id)->pub_endpoint;
        drop_peer(id, leave_reason::revoked);
        subscriber_.peer_revoked(id, pub_endpoint);
    }
    cut_revoked_connections();
}

}  // namespace zmesh::detail
