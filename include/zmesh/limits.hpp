// SPDX-License-Identifier: MPL-2.0
// limits: the bounds an application meets through the API (names, topics, methods,
// subscriptions) and the defaults of options that are sizes or ports. They are the wire's
// own limits (PROTOCOL.md), so a node refuses locally what its peers would refuse.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zmesh {

inline constexpr std::size_t max_mesh_len = 64;      // options::mesh, bytes
inline constexpr std::size_t max_name_len = 64;      // options::name, bytes
inline constexpr std::size_t max_topic_len = 255;    // an event topic or a subscribed prefix
inline constexpr std::size_t max_service_len = 128;  // a served or called method's name
// Distinct prefixes one node subscribes to, and their bytes summed: a publisher holds them
// all for each subscriber and cuts one that asks for more.
inline constexpr std::size_t max_subscriptions = 1000;
inline constexpr std::size_t max_subscription_bytes = 64 * 1024;

inline constexpr std::size_t default_max_event_size = 1024 * 1024;   // options::max_event_size
inline constexpr std::uint16_t default_beacon_port = 5670 + 200;    // 5870: clear of Zyre's 5670

}  // namespace zmesh
