// SPDX-License-Identifier: MPL-2.0
// rpc_client: the calls a node makes — which peer each goes to (the joined provider with the
// fewest calls pending; ties in turn), its id, its deadline, its outcome (a reply, an error
// reply, a timeout, its peer leaving) and where that outcome goes (a promise set at once, a
// callback on the reactor or on the delivery thread). One path for every call: call().
#pragma once

#include "call_links.hpp"
#include "node/by_name.hpp"
#include "node/command.hpp"
#include "node/context.hpp"
#include "node/mesh/peer_port.hpp"
#include "node/outbox.hpp"
#include "node/pending_calls.hpp"
#include "discovery/peer_table.hpp"
#include "protocol/rpc.hpp"

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace zmesh::detail {

class rpc_client {
public:
    using clock = std::chrono::steady_clock;

    rpc_client(node_context& ctx, shared_counters& counters, outbox& out,
               const discovery::peer_table& table, peer_port& host, call_links& links);

    // Starts a call: sends it to its peer, or fails it. A call that fails as it is made (no
    // provider, queue full) is completed by complete_failed(), not here: its callback would
    // run inside the code that made the call, and a callback that calls again, inside itself.
    void call(call_command&& c, clock::time_point now);
    // Completes the calls that failed as they were made.
    void complete_failed();
    bool has_failed() const noexcept { return !failed_.empty(); }

    // A REPLY from `from`, a joined peer: completes its call (counted stray when there is
    // none, or it went to another peer).
    void on_reply(const discovery::peer& from, zmq::message_t& frame,
                  const protocol::reply_message& m);
    // Reads the REPLYs on the call links the last wait found readable; `between()` runs
    // before each (false: stop reading).
    void read_call_links(clock::time_point now, const std::function<bool()>& between);

    // `peer` left: its calls fail now (peer_lost, with `why`), and its call link closes.
    void peer_left(const protocol::node_id& peer, const std::string& why);
    // Returns: whether a call to `peer` awaits its reply.
    bool awaits_from(const protocol::node_id& peer) const {
        const auto it = pending_by_peer_.find(peer);
        return it != pending_by_peer_.end() && it->second > 0;
    }
    // Fails the calls whose deadline passed at `now` (timeout).
    void expire(clock::time_point now);
    // Returns: the next deadline of a pending call (time_point::max() when none).
    clock::time_point next_deadline() const;
    // Fails every pending call (the node stops); closes every call link.
    void fail_all(rpc_error why);

private:
    struct pending_call {
        protocol::node_id peer;
        call_done done;
        run_on where = run_on::handler_thread;
        clock::time_point deadline;
    };
    struct failed_call {
        std::uint64_t id;
        rpc_error why;
    };
    // Returns: `peer` when it has joined, else null.
    const discovery::peer* joined(const protocol::node_id& peer) const;
    // Returns: the joined provider of `method` with the fewest calls pending (ties: in
    // turn), or null when none serves it.
    const discovery::peer* choose_provider(std::string_view method);
    // Returns: the joined member named `name` with the fewest calls pending (ties: in turn),
    // or null when none has that name.
    const discovery::peer* choose_named(const std::string& name);
    // Returns: the one of `peers` (not empty) with the fewest calls pending; ties in turn.
    const discovery::peer* least_loaded(const std::vector<protocol::node_id>& peers);
    void fail_soon(std::uint64_t id, rpc_error why) { failed_.push_back({id, std::move(why)}); }
    // Removes call `id`, to `peer`, from the pending ones and from that peer's count.
    void drop_call(std::uint64_t id, const protocol::node_id& peer);
    // Ends call `id`, if it is pending, with `outcome`.
    void complete(std::uint64_t id, std::variant<reply, rpc_error> outcome);
    void finish(pending_call& call, std::variant<reply, rpc_error>&& outcome);
    void forget_answered_deadlines();

    node_context& ctx_;
    shared_counters& counters_;
    outbox& out_;
    const discovery::peer_table& table_;
    peer_port& host_;
    call_links& links_;
    pending_calls<pending_call> calls_;   // by request id
    using deadline_entry = std::pair<clock::time_point, std::uint64_t>;
    std::priority_queue<deadline_entry, std::vector<deadline_entry>, std::greater<>> deadlines_;   // stale skipped
    std::unordered_map<protocol::node_id, std::size_t> pending_by_peer_;
    std::vector<failed_call> failed_, failing_;
    // The joined providers of each method called, while the peer table stays as it was (its
    // version): scanning every peer's services for each call grows with the peers. Emptied
    // when the table changes, or past max_methods_cached.
    by_name<std::vector<protocol::node_id>> providers_;
    std::uint64_t providers_version_ = 0;
    static constexpr std::size_t max_methods_cached = 256;
    std::size_t round_robin_ = 0;
};

}  // namespace zmesh::detail
