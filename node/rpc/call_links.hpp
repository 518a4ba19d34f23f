// SPDX-License-Identifier: MPL-2.0
// call_links: the caller's own DEALER to each peer it calls whose HELLO offers one
// (PROTOCOL.md §4.2 rule 6): a REQUEST and its REPLY are one frame each way on it, where
// through the dialler each costs a routing frame more. Each is waited on by its descriptor,
// as the loop's own sockets are, and checked again when used since its last check.
#pragma once

#include "node/context.hpp"
#include "node/security/security.hpp"
#include "node/wait_set.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace zmesh::detail {

class call_links {
public:
    // What the loop's wait set returns for a call link: this tag with its descriptor added.
    static constexpr std::uint64_t wait_tag = std::uint64_t{1} << 32;

    call_links(node_context& ctx, zmq::context_t& net, security& sec, wait_set& waits)
        : ctx_(ctx), net_(net), security_(sec), waits_(waits) {}

    class link {
    public:
        // Sends `frame`. Returns: whether it was queued (false: its queue is full).
        bool send(zmq::message_t& frame);

    private:
        friend class call_links;
        std::unique_ptr<zmq::socket_t> socket_;
        int fd_ = -1;
        bool dirty_ = false, ready_ = false;
    };
    // Returns: the call link to `peer` at `router_endpoint`, opened now if need be, whose
    // routing id carries `token` (the link token we gave the peer); null (logged) when it
    // cannot be opened. Valid until the link is closed.
    link* open(const protocol::node_id& peer, const std::string& router_endpoint, std::uint64_t token);
    // Closes the call link to `peer`, if any (linger 0: what is queued goes with it).
    void close(const protocol::node_id& peer);
    void close_all();

    // The wait set reported descriptor `fd`.
    void signalled(int fd);
    // Checks the links used since their last check. Returns: whether one holds a message.
    bool readable();
    // Reads each link found readable: `on_reply(peer, frame)` for each one-frame message
    // (anything else counted invalid), `between()` before each. Reads at most a batch a
    // link; a link not read until empty is checked again before the loop sleeps.
    void read(const std::function<void(const protocol::node_id&, zmq::message_t&)>& on_reply,
              const std::function<bool()>& between);

private:
    // Reads `peer`'s link. Returns: true when it was read until empty.
    bool read_one(const protocol::node_id& peer,
                  const std::function<void(const protocol::node_id&, zmq::message_t&)>& on_reply,
                  const std::function<bool()>& between);

    node_context& ctx_;
    zmq::context_t& net_;
    security& security_;
    wait_set& waits_;
    std::unordered_map<protocol::node_id, link> links_;
    std::vector<protocol::node_id> round_;   // the links read this round
};

}  // namespace zmesh::detail
