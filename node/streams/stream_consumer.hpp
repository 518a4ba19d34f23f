// SPDX-License-Identifier: MPL-2.0
// stream_consumer: the member's side of the durable consumers a node runs, each named by the
// publisher's node id, the stream and the consumer name. It says when to send CONSUME (at the
// start, again whenever the publisher's link comes back, and again while refused), keeps the
// application from being handed the same record twice unless the publisher redelivers it,
// holds what the application was handed and has not settled (at most max_in_flight; a
// DELIVER beyond is dropped, and the publisher redelivers it), turns the application's acks,
// naks, in_progress and terms into SETTLE batches, and forgets what it holds when the link is
// lost (the publisher hands it out again, with a new attempt).
//
// Pure state, like consumer_group: time comes in as an argument, what to send goes out as
// values (take_outgoing), in the order it must be sent; no socket.
#pragma once

#include "messages.hpp"
#include "protocol/node_id.hpp"
#include "protocol/stream.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

namespace zmesh::detail::streams {

using publisher_id = protocol::node_id;

struct consumer_key {
    publisher_id publisher;
    std::string stream, consumer;
};

// Settles of one stream and consumer, in the order made: one SETTLE frame.
using settle_batch = std::vector<settle_message>;

// A message for a publisher.
struct outgoing {
    publisher_id to;
    std::variant<consume_request, settle_batch, consume_end> message;
};

struct consumer_counters {
    std::uint64_t delivered = 0;              // handed to the application, redeliveries included
    std::uint64_t redelivered = 0;            // of those, the ones it may have seen before
    std::uint64_t duplicates_dropped = 0;     // a record it holds, or had, at the same attempt
    std::uint64_t over_limit_dropped = 0;     // beyond max_in_flight: the publisher redelivers it
    std::uint64_t unexpected_dropped = 0;     // for no consumer, or before its ANSWER
    std::uint64_t settles_sent = 0;
    std::uint64_t stale_settles_refused = 0;  // for a delivery not held, or held at another attempt
    std::uint64_t forgotten_on_link_loss = 0; // held when the link dropped
};

class stream_consumer {
public:
    using clock = std::chrono::steady_clock;

    // What became of a DELIVER.
    enum class handed {
        fresh,           // hand it to the application: a record it has not been handed before
        redelivery,      // hand it too: another attempt at a record it may have been handed
        duplicate,       // dropped: already handed at this attempt or a later one
        over_limit,      // dropped: max_in_flight unsettled deliveries are held already
        not_consuming,   // dropped: no such consumer, or it has no ANSWER yet
    };

    // `retry_every`: how long a CONSUME waits for its ANSWER, and a refused one (no such
    // stream yet) before it is sent again. `max_consumers`: how many may run at once.
    explicit stream_consumer(std::chrono::milliseconds retry_every = std::chrono::seconds(1),
                             std::size_t max_consumers = 1024);

    // Starts consuming `r` from `publisher`: its CONSUME goes out now if `link_up`, else when
    // the link comes up. Throws std::invalid_argument for names or a configuration outside
    // PROTOCOL.md §14's bounds, a consumer already running, or one more than max_consumers.
    void start(const publisher_id& publisher, consume_request r, bool link_up, clock::time_point now);
    // Stops a consumer: its settles already made go first, then END, which hands back what it
    // held. Returns: whether it was running.
    bool stop(const consumer_key& k);

    // The link to `publisher` is up (again, or to a publisher that restarted): each of its
    // consumers starts a new session and sends CONSUME.
    void publisher_link_up(const publisher_id& publisher, clock::time_point now);
    // The link is gone: what its consumers held is forgotten, and what they had not sent yet
    // is dropped (the publisher hands all of it out again); they wait for the link.
    void publisher_link_lost(const publisher_id& publisher);

    // Returns: the answer's status, or nullopt when no consumer of that publisher waited for
    // one (then it is ignored).
    std::optional<consume_status> on_answer(const publisher_id& publisher, const consume_answer& a,
                                            clock::time_point now);
    // Decides on a DELIVER before anything of it is copied: see handed.
    handed on_deliver(const publisher_id& publisher, const protocol::stream_deliver& d);

    // The application settles the delivery (seq, attempt) it was handed. Returns: whether a
    // settle goes out; false (counted as stale) when the consumer does not hold that delivery
    // at that attempt: settled already, forgotten when the link dropped, superseded by a
    // redelivery, or never handed. `delay` (a nak's) and `error` are cut to the wire's bounds.
    bool settle(const consumer_key& k, std::uint64_t seq, std::uint32_t attempt, streams::settle kind,
                std::chrono::milliseconds delay = {}, std::string_view error = {});

    // CONSUMEs whose ANSWER is late, or that were refused, go again when due.
    void on_timer(clock::time_point now);
    std::optional<clock::time_point> next_deadline() const;

    // Returns: what to send, in order, since the last call.
    std::vector<outgoing> take_outgoing() { return std::exchange(outgoing_, {}); }

    const consumer_counters& counters() const noexcept { return counters_; }
    bool running(const consumer_key& k) const { return consumers_.contains(k); }
    // Returns: the deliveries `k` holds unsettled.
    std::size_t held(const consumer_key& k) const;

private:
    enum class phase { waiting_link, awaiting_answer, consuming, refused };
    struct consumer_state {
        consume_request request;
        phase at = phase::waiting_link;
        clock::time_point retry_at{};
        // seq -> the attempt handed to the application, not yet settled (ack, nak or term).
        std::map<std::uint64_t, std::uint32_t> held;
        // The highest seq handed at attempt 1 in this session, and in the sessions before it.
        std::uint64_t highest_first_attempt = 0;
        std::uint64_t highest_before_session = 0;
        bool ordered = false;   // by key, as the ANSWER said: first attempts rise per key only
    };
    // Orders consumers by publisher, stream and consumer, and finds them by views (a DELIVER's
    // names) without building a key.
    struct key_less {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const {
            return std::tie(a.publisher, a.stream, a.consumer) < std::tie(b.publisher, b.stream, b.consumer);
        }
    };
    struct key_view {
        const publisher_id& publisher;
        std::string_view stream, consumer;
    };
    using table = std::map<consumer_key, consumer_state, key_less>;

    void send_consume(const publisher_id& publisher, consumer_state& c, clock::time_point now);
    static void begin_session(consumer_state& c);
    consumer_state* find(const publisher_id& p, std::string_view stream, std::string_view consumer);

    std::chrono::milliseconds retry_every_;
    std::size_t max_consumers_;
    table consumers_;
    std::vector<outgoing> outgoing_;
    consumer_counters counters_;
};

}  // namespace zmesh::detail::streams
