// SPDX-License-Identifier: MPL-2.0
// zmesh: the one header an application includes — #include <zmesh/zmesh.hpp>.
// <zmesh/node.hpp> documents the API: zmesh::node, its options, events, RPC and keys.
// The headers include each other as <zmesh/...>, so -I PREFIX/include is enough.
#pragma once

#include <zmesh/keys.hpp>
#include <zmesh/node.hpp>
#include <zmesh/tuning.hpp>
