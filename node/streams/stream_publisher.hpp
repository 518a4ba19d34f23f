// SPDX-License-Identifier: MPL-2.0
// stream_publisher: a node as the broker of its own messages. Events published on a topic
// that a declared stream takes are appended to that stream's durable log; appends are
// committed in groups (every `commit_every` records or `commit_within`, whichever comes
// first), and each publish learns when it is stored. Consumers join by name; each record goes
// to one member of a consumer at a time (consumer_group), is redelivered when it is not
// settled, and after max deliveries goes, with its last error, to the stream's dead letters:
// the stream "<name>.dlq", which takes no topics. Positions are kept in the log, so a
// consumer resumes where it was after either side restarts.
//
// Pure logic over a log_store: time comes in as an argument, messages go out through a
// stream_sink; no socket.
#pragma once

#include "consumer_group.hpp"
#include "log_store.hpp"
#include "messages.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zmesh::detail::streams {

using member_id = consumer_group::member_id;

// Where a stream_publisher's output goes.
class stream_sink {
public:
    virtual void deliver(const member_id& to, const delivery_message& d) = 0;
    virtual void answer(const member_id& to, const consume_answer& a) = 0;
    // The publish with this ticket is stored (durable as the store promises), or failed.
    virtual void stored(std::uint64_t ticket, bool ok) = 0;

protected:
    ~stream_sink() = default;
};

struct publisher_config {
    std::size_t commit_every = 256;                 // records per commit at most
    // The longest a record waits to be stored when nobody calls end_of_round (a node calls
    // it after every round), and a moved position to be written.
    std::chrono::milliseconds commit_within{2};
    std::chrono::milliseconds trim_every{1000};     // retention applied this often
    // Consumer names (stream, consumer) served at once: each CONSUME of a new name costs a
    // group and a position in the log, and names come from the network.
    std::size_t max_groups = 1024;
};

class stream_publisher {
public:
    using clock = std::chrono::steady_clock;

    stream_publisher(std::unique_ptr<log_store> store, stream_sink& sink, publisher_config config = {});

    void declare(const stream_config& config);
    bool remove(std::string_view stream);
    std::vector<stream_state> streams() const { return store_->all(); }

    // An event published on `topic`: appended to every stream that takes it. `ticket` is
    // told to the sink once all of them are stored. Returns: how many streams took it (0:
    // none, and nothing is told).
    std::size_t append(std::string_view topic, std::string_view key, std::span<const std::uint8_t> payload,
                       std::uint64_t time_us, std::uint64_t ticket, clock::time_point now);

    void on_consume(const member_id& from, const consume_request& r, clock::time_point now);
    void on_settle(const member_id& from, const settle_message& m, clock::time_point now);
    // The member stops consuming `consumer` of `stream`: its records go to the others.
    void on_consume_end(const member_id& from, std::string_view stream, std::string_view consumer,
                        clock::time_point now);
    // The member is gone (its link dropped, it left): from every consumer at once.
    void member_left(const member_id& m, clock::time_point now);

    // Commits, redeliveries and retention that are due. `now_us`: the wall clock (record ages).
    void on_timers(clock::time_point now, std::uint64_t now_us);
    std::optional<clock::time_point> next_deadline() const;
    // Commits what was appended now (a node stopping), not when due; its tickets are told.
    void commit(clock::time_point now);
    // The caller's round of work is over: what it appended is committed now, since nothing
    // more would join the batch before the next round. Natural group commit: a lone publish
    // is stored at once on an idle node, and a busy node stores everything that arrived
    // during its last round (up to commit_every) in one commit.
    void end_of_round(clock::time_point now) {
        if (!waiting_tickets_.empty()) commit(now);
    }

    // Administration (stream_publisher_admin.cpp), for the reserved methods of PROTOCOL.md §15.
    struct consumer_state {
        std::string name;
        std::uint64_t members = 0, position = 0, pending = 0, in_flight = 0, redeliveries = 0, dead_letters = 0;
    };
    std::optional<stream_state> state(std::string_view stream) const { return store_->state(stream); }
    // Returns: every consumer of `stream` the log or this run knows, by name.
    std::vector<consumer_state> consumers(std::string_view stream) const;
    std::vector<record> read(std::string_view stream, std::uint64_t from, std::size_t max, std::size_t max_bytes) const {
        return store_->read(stream, from, max, max_bytes);
    }
    enum class requeue_result { done, no_stream, no_record, unreadable };
    // Appends dead letter `seq` of "<stream>.dlq" to `stream` again, as a new record, and
    // removes it from the dead letters; committed before it returns. Throws store_error.
    requeue_result requeue(std::string_view stream, std::uint64_t seq, std::uint64_t now_us, clock::time_point now);

    // Returns: the consumer's group, if it exists (for stats and tests).
    const consumer_group* group(std::string_view stream, std::string_view consumer) const;
    std::uint64_t stale_settles() const noexcept { return stale_settles_; }
    // CONSUMEs refused for max_groups.
    std::uint64_t refused_consumes() const noexcept { return refused_consumes_; }

private:
    using group_key = std::pair<std::string, std::string>;   // stream, consumer
    struct group_entry {
        consumer_group group;
        std::uint64_t stored_position = 0;   // as last written to the log
        // Ordered by key: the keys of the records after the last one the group took, read ahead.
        std::deque<std::pair<std::uint64_t, std::string>> keys_ahead;
        std::uint64_t dead_letters = 0;      // sent to the dead letters by this run
    };
    // Hands out what each consumer can take now.
    void dispatch(clock::time_point now);
    void dispatch(const group_key& key, group_entry& g, clock::time_point now);
    void bury(const std::string& stream, const consumer_group::dead_letter& d);
    std::uint64_t start_position(const consume_request& r, const stream_state& s) const;
    // Reads again which streams take topics (after a declare or a remove).
    void refresh_topic_streams();

    std::unique_ptr<log_store> store_;
    stream_sink& sink_;
    publisher_config config_;
    std::map<group_key, group_entry> groups_;
    // The streams that take topics, by name and prefix: looked at on every append.
    std::vector<std::pair<std::string, std::string>> topic_streams_;
    // Each stream's last record when the log was opened: what a run before this one may
    // have handed out.
    std::map<std::string, std::uint64_t, std::less<>> last_at_open_;
    std::vector<std::uint64_t> waiting_tickets_;   // stored at the next commit
    std::optional<clock::time_point> commit_due_;
    clock::time_point next_trim_{};
    std::uint64_t stale_settles_ = 0, refused_consumes_ = 0;
};

}  // namespace zmesh::detail::streams
