// SPDX-License-Identifier: MPL-2.0
// shop: the messages of the orders/inventory example, shared by both services. Each is a
// msgpack map, so a service in another language reads them by field name.
//
//   RPC    orders.place       order_request     -> placed (once stored)
//          orders.get         order_id          -> order_view
//          orders.summary     (nil)             -> summary
//          inventory.reserve  reserve_request   -> reservation (reserved or not)
//          inventory.stock    (nil)             -> stock_report
//   stream orders             order.created     reserve_request, stored by orders and taken
//                                               by the inventories as consumer "inventory"
//   events inventory.reserved reservation       (reserved = true)
//          inventory.rejected reservation       (reserved = false, reason)
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace shop {

inline constexpr const char* orders_stream = "orders";
inline constexpr const char* inventory_consumer = "inventory";

struct order_request {
    std::string item;
    std::int64_t qty = 0;
    MSGPACK_DEFINE_MAP(item, qty)
};

struct placed {
    std::uint64_t order_id = 0;
    MSGPACK_DEFINE_MAP(order_id)
};

struct reserve_request {
    std::uint64_t order_id = 0;
    std::string item;
    std::int64_t qty = 0;
    MSGPACK_DEFINE_MAP(order_id, item, qty)
};

struct reservation {
    std::uint64_t order_id = 0;
    std::string item;
    std::int64_t qty = 0;
    bool reserved = false;
    std::string by;       // the inventory instance that decided
    std::string reason;   // why not, when not reserved
    MSGPACK_DEFINE_MAP(order_id, item, qty, reserved, by, reason)
};

struct order_view {
    std::uint64_t order_id = 0;
    std::string item;
    std::int64_t qty = 0;
    std::string state;    // pending, reserved or rejected
    std::string by;
    MSGPACK_DEFINE_MAP(order_id, item, qty, state, by)
};

struct summary {
    std::uint64_t total = 0, pending = 0, reserved = 0, rejected = 0;
    std::uint64_t repeats = 0;   // decisions heard again for an order decided already: ignored
    std::map<std::string, std::uint64_t> reserved_by;   // orders per inventory instance
    MSGPACK_DEFINE_MAP(total, pending, reserved, rejected, repeats, reserved_by)
};

struct stock_report {
    std::string name;
    std::map<std::string, std::int64_t> left;   // per item
    std::int64_t reserved_qty = 0;              // units handed out since start
    std::uint64_t reserved_orders = 0;
    std::uint64_t rejected_orders = 0;
    std::uint64_t repeats = 0;   // orders handed again once decided: same answer, no stock taken
    MSGPACK_DEFINE_MAP(name, left, reserved_qty, reserved_orders, rejected_orders, repeats)
};

}  // namespace shop
