// SPDX-License-Identifier: MPL-2.0
// zmesh: the one header an application includes — #include <zmesh/zmesh.hpp>.
// node/node.hpp documents the API: zmesh::node, its options, events, RPC and keys.
// Installed headers include each other by relative path, so -I PREFIX/include is enough.
#pragma once

#include "node/keys.hpp"
#include "node/node.hpp"
#include "node/tuning.hpp"
