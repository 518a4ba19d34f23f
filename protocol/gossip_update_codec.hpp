// SPDX-License-Identifier: MPL-2.0
// gossip_update_codec: the one msgpack encoding of a gossip update, which the gossip datagram
// (gossip.hpp) and the MEMBERS control message (control.hpp) both carry:
//
//   [id bin16, incarnation uint, state uint, by bin16, meta bin, ...ignored trailing fields]
#pragma once

#include "gossip.hpp"
#include "msgpack_io.hpp"

namespace zmesh::protocol {

// Writes `u`. Throws std::length_error for a meta over max_gossip_meta (a programmer error).
// At most max_gossip_update_size bytes.
void pack_gossip_update(msgpack::packer<msgpack::sbuffer>& pk, const gossip_update& u);

// Returns: the update in `o`, or wrong_type (not an array of at least 5, a field of another
// type), oversized (a meta over max_gossip_meta), bad_field (a zero member id, a `by` that is
// not 16 bytes, an incarnation over 32 bits, a state over 3, meta on a state other than
// alive). Never throws.
result<gossip_update> read_gossip_update(const msgpack::object& o);

}  // namespace zmesh::protocol
