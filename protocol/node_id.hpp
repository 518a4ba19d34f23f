// SPDX-License-Identifier: MPL-2.0
// node_id as the codecs name it: the public type of <zmesh/node_id.hpp>, whose members
// protocol/node_id.cpp defines.
#pragma once

#include <zmesh/node_id.hpp>

namespace zmesh::protocol {

using zmesh::node_id;

}  // namespace zmesh::protocol
