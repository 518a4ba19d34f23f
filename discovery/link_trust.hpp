// SPDX-License-Identifier: MPL-2.0
// link_trust: which membership messages a node believes (PROTOCOL.md §7.1, §7.3, §8.5). In a
// plain mesh anyone may send a frame claiming any id, or a beacon naming any id at any
// endpoint; what a stranger cannot do is read what we send to the ROUTER we dialled. So a
// HELLO or LEAVE that quotes the token we sent there comes from the node listening there,
// and a beacon alone never takes a live member's endpoints. Pure rules, no state.
#pragma once

#include "peer.hpp"
#include "protocol/control.hpp"

namespace zmesh::discovery {

// How a HELLO from a peer in our table is taken.
enum class hello_trust {
    joins,        // it is connecting, or known by gossip alone: its first HELLO joins it,
                  // whatever it echoes (it may not have our HELLO yet)
    authentic,    // it quotes the token we gave it
    unverified,   // it does not: perhaps forged. Nothing in it is believed; one asking for
                  // an answer gets one (ours may have been lost), which proves nothing to it
};
hello_trust trust_hello(const peer& p, const protocol::hello& h) noexcept;

// Returns: whether a LEAVE quoting `token` ends `p`'s membership.
bool leave_authentic(const peer& p, std::uint64_t token) noexcept;

// What a newcomer named (by beacon, PEERS or HELLO) at the endpoints of `holder`, another
// peer, may do. Two processes cannot listen on one host:port, so one of them is wrong.
enum class endpoint_claim {
    held,        // the holder's link is up, or it is still in handshake: the newcomer is
                 // not dialled (its claim is believed only if it proves it, by a HELLO
                 // quoting the token we sent to those endpoints)
    taken_over,  // the holder's link failed since it joined: it is replaced
};
endpoint_claim claim_endpoints(const peer& holder) noexcept;

}  // namespace zmesh::discovery
