// SPDX-License-Identifier: MPL-2.0
// stream_admin: a node's streams administered by other members through the reserved methods
// of PROTOCOL.md §15 — list, add, remove, publish into, and the dead letters listed and
// requeued. Reads are answered to any member; writes only when options::stream_admin allows
// them. Every argument is bounded and checked first; a bad one is answered with its code and
// counted (stream_admin_refused), never thrown. Runs on the reactor.
#pragma once

#include "durable_streams.hpp"
#include "node/context.hpp"
#include "node/rpc/reserved.hpp"
#include "protocol/stream_admin.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace zmesh::detail {

class stream_admin {
public:
    using clock = std::chrono::steady_clock;
    // Sends the reply to a request (rpc_server::answer).
    using replier = std::function<void(const pending_reply&, std::int64_t code, const std::string& message,
                                       std::span<const std::uint8_t> result)>;
    // Publishes an event as the node's own, stored in the streams that take its topic
    // (reactor::on_publish); `stored` is told how that ended.
    using event_publisher =
        std::function<void(std::string_view topic, std::span<const std::uint8_t> payload, stored_callback stored)>;

    stream_admin(node_context& ctx, durable_streams& streams, replier reply, event_publisher publish);
    // Publishes still waiting to be stored are not answered after this: the node is ending.
    ~stream_admin() { *live_ = false; }
    stream_admin(const stream_admin&) = delete;
    stream_admin& operator=(const stream_admin&) = delete;

    // Returns: false when `method` is not one of PROTOCOL.md §15's.
    bool on_request(std::string_view method, std::span<const std::uint8_t> args, const pending_reply& to);

private:
    void list(std::span<const std::uint8_t> args, const pending_reply& to);
    void add(std::span<const std::uint8_t> args, const pending_reply& to);
    void remove(std::span<const std::uint8_t> args, const pending_reply& to);
    void publish(std::span<const std::uint8_t> args, const pending_reply& to);
    void dlq_list(std::span<const std::uint8_t> args, const pending_reply& to);
    void requeue(std::span<const std::uint8_t> args, const pending_reply& to);

    protocol::admin::stream_report report_of(const streams::stream_state& s) const;
    void ok(const pending_reply& to, std::span<const std::uint8_t> result) { reply_(to, 0, {}, result); }
    // Answers an error, counted.
    void fail(const pending_reply& to, std::int64_t code, const std::string& message);

    node_context& ctx_;
    durable_streams& streams_;
    replier reply_;
    event_publisher publish_;
    // Shared with the callbacks of publishes waiting to be stored, which durable_streams may
    // run after this is gone (at its own end).
    std::shared_ptr<bool> live_ = std::make_shared<bool>(true);
};

}  // namespace zmesh::detail
