// SPDX-License-Identifier: MPL-2.0
// stream_consumer: sessions with each publisher, deduplication of deliveries, the deliveries
// held for the application, and its settles batched in order.
#include "stream_consumer.hpp"

#include "wire.hpp"

#include <algorithm>
#include <stdexcept>

namespace zmesh::detail::streams {

// Why a highest seq and the held seqs are all the dedup memory a consumer needs.
//
// A session is what lies between a CONSUME (sent when the link comes up) and the loss of
// that link. Within one publisher's life, consumer_group hands out records so:
//   1. A record's first attempt goes out once, ever: `next_new_` only grows, and a record
//      below it is handed again only from `redeliver_`, with attempt = ++attempts_[seq] >= 2.
//      And first attempts go out in rising seq order. One link is FIFO, so in a session a
//      member sees attempt-1 seqs strictly rising: an attempt-1 DELIVER at or below the
//      highest attempt-1 seq already handed is a duplicate. Except in a consumer ordered by
//      key (its ANSWER says so): a record held back for its key goes out after later ones,
//      so there first attempts rise per key, not overall, and the check rests on rule 2 and
//      the held seqs alone (a first attempt is never sent twice by rule 1's first sentence).
//   2. Each (seq, attempt) goes out once: every hand-out increments the attempt. So an
//      attempt >= 2 for a seq not held now is one the application has not been handed: a
//      redelivery of a record it naked, or whose ack wait ran out, or that another member or
//      an earlier session held.
//   3. An acked or termed record is never handed out again (finish() forgets it).
// A seq that is held is compared by attempt: a higher one supersedes what the application
// holds (its settle of the older attempt is then refused here, as the publisher would refuse
// it), an equal or lower one is a duplicate. So the held map, bounded by max_in_flight, and
// one number per consumer suffice within a session.
//
// Across sessions nothing needs remembering for dedup: after a link loss the publisher gives
// back everything the member held (member_left), each with a new attempt, and what the node
// had settled but not yet sent is lost with the link too, so those come back as well and must
// be handed again. A publisher that restarted, though, rebuilds its groups from the stored
// position with attempts counting from 1 again: records above the position come as attempt
// 1, some of which the application may have handled (acked, but the position not stored
// yet, or acked above a gap). Rules 1 and 2 do not hold across that restart, so a session
// starts with the attempt-1 watermark at 0, and a seq at or below the previous sessions'
// highest is handed as a redelivery, not as fresh. To drop those too, the publisher would
// have to keep each record's attempt count in its log (the in-flight rows of the research
// notes), or the consumer its own watermark, written with the application's side effects.

stream_consumer::stream_consumer(std::chrono::milliseconds retry_every, std::size_t max_consumers)
    : retry_every_(retry_every), max_consumers_(max_consumers) {}

stream_consumer::consumer_state* stream_consumer::find(const publisher_id& p, std::string_view stream,
                                                       std::string_view consumer) {
    const auto it = consumers_.find(key_view{p, stream, consumer});
    return it == consumers_.end() ? nullptr : &it->second;
}

std::size_t stream_consumer::held(const consumer_key& k) const {
    const auto it = consumers_.find(k);
    return it == consumers_.end() ? 0 : it->second.held.size();
}

void stream_consumer::start(const publisher_id& publisher, consume_request r, bool link_up, clock::time_point now) {
    try {
        (void)protocol::encode_stream_frame(to_wire(r));   // throws for what a publisher would refuse
    } catch (const std::length_error& e) {
        throw std::invalid_argument(std::string("stream consumer: ") + e.what());
    }
    if (consumers_.size() >= max_consumers_) throw std::invalid_argument("stream consumer: too many consumers");
    consumer_key key{publisher, r.stream, r.consumer};
    if (consumers_.contains(key)) throw std::invalid_argument("stream consumer: already running");
    consumer_state state;
    state.request = std::move(r);
    auto& c = consumers_.emplace(std::move(key), std::move(state)).first->second;
    if (link_up) send_consume(publisher, c, now);
}

bool stream_consumer::stop(const consumer_key& k) {
    const auto it = consumers_.find(k);
    if (it == consumers_.end()) return false;
    // Waiting for a link or refused, the publisher holds nothing for it.
    if (it->second.at == phase::awaiting_answer || it->second.at == phase::consuming)
        outgoing_.push_back({k.publisher, consume_end{k.stream, k.consumer}});
    consumers_.erase(it);
    return true;
}

void stream_consumer::begin_session(consumer_state& c) {
    c.highest_before_session = std::max(c.highest_before_session, c.highest_first_attempt);
    c.highest_first_attempt = 0;
    c.held.clear();
}

void stream_consumer::send_consume(const publisher_id& publisher, consumer_state& c, clock::time_point now) {
    c.at = phase::awaiting_answer;
    c.retry_at = now + retry_every_;
    outgoing_.push_back({publisher, c.request});
}

void stream_consumer::publisher_link_up(const publisher_id& publisher, clock::time_point now) {
    for (auto it = consumers_.lower_bound(key_view{publisher, {}, {}}); it != consumers_.end() && it->first.publisher == publisher;
         ++it) {
        begin_session(it->second);
        send_consume(publisher, it->second, now);
    }
}

void stream_consumer::publisher_link_lost(const publisher_id& publisher) {
    for (auto it = consumers_.lower_bound(key_view{publisher, {}, {}}); it != consumers_.end() && it->first.publisher == publisher;
         ++it) {
        counters_.forgotten_on_link_loss += it->second.held.size();
        begin_session(it->second);
        it->second.at = phase::waiting_link;
    }
    std::erase_if(outgoing_, [&](const outgoing& o) { return o.to == publisher; });
}

std::optional<consume_status> stream_consumer::on_answer(const publisher_id& publisher, const consume_answer& a,
                                                         clock::time_point now) {
    auto* c = find(publisher, a.stream, a.consumer);
    if (!c || c->at != phase::awaiting_answer) return std::nullopt;
    if (a.status == consume_status::ok) {
        c->at = phase::consuming;
        c->ordered = a.ordered_by_key;
    } else {
        c->at = phase::refused;   // no such stream yet, or a refusal of a later revision
        c->retry_at = now + retry_every_;
    }
    return a.status;
}

stream_consumer::handed stream_consumer::on_deliver(const publisher_id& publisher, const protocol::stream_deliver& d) {
    auto* c = find(publisher, d.stream, d.consumer);
    if (!c || c->at != phase::consuming) {
        ++counters_.unexpected_dropped;
        return handed::not_consuming;
    }
    const auto held = c->held.find(d.seq);
    if (held != c->held.end()) {
        if (d.attempt <= held->second) {
            ++counters_.duplicates_dropped;
            return handed::duplicate;
        }
        held->second = d.attempt;   // the older attempt's settle will be refused
        ++counters_.delivered;
        ++counters_.redelivered;
        return handed::redelivery;
    }
    if (d.attempt == 1 && !c->ordered && d.seq <= c->highest_first_attempt) {
        ++counters_.duplicates_dropped;
        return handed::duplicate;
    }
    if (c->held.size() >= c->request.config.max_in_flight) {
        ++counters_.over_limit_dropped;
        return handed::over_limit;
    }
    c->held.emplace(d.seq, d.attempt);
    ++counters_.delivered;
    if (d.attempt == 1) c->highest_first_attempt = std::max(c->highest_first_attempt, d.seq);
    if (d.attempt > 1 || d.seq <= c->highest_before_session) {
        ++counters_.redelivered;
        return handed::redelivery;
    }
    return handed::fresh;
}

bool stream_consumer::settle(const consumer_key& k, std::uint64_t seq, std::uint32_t attempt, streams::settle kind,
                             std::chrono::milliseconds delay, std::string_view error) {
    const auto refuse = [&] {
        ++counters_.stale_settles_refused;
        return false;
    };
    auto* c = find(k.publisher, k.stream, k.consumer);
    if (!c || c->at != phase::consuming) return refuse();
    const auto held = c->held.find(seq);
    if (held == c->held.end() || held->second != attempt) return refuse();
    if (kind != streams::settle::in_progress) c->held.erase(held);
    delay = std::clamp(delay, std::chrono::milliseconds(0), std::chrono::milliseconds(protocol::max_stream_wait_ms));
    settle_message m{k.stream, k.consumer, seq, attempt, kind, delay,
                     std::string(error.substr(0, protocol::max_settle_error_len))};
    ++counters_.settles_sent;
    // Joins the last batch when it is for the same consumer and has room: consecutive acks
    // go out as one frame, and nothing is reordered.
    if (!outgoing_.empty() && outgoing_.back().to == k.publisher) {
        auto* batch = std::get_if<settle_batch>(&outgoing_.back().message);
        if (batch && batch->size() < protocol::max_settle_batch && batch->front().stream == k.stream &&
            batch->front().consumer == k.consumer) {
            batch->push_back(std::move(m));
            return true;
        }
    }
    outgoing_.push_back({k.publisher, settle_batch{std::move(m)}});
    return true;
}

void stream_consumer::on_timer(clock::time_point now) {
    for (auto& [key, c] : consumers_)
        if ((c.at == phase::awaiting_answer || c.at == phase::refused) && c.retry_at <= now)
            send_consume(key.publisher, c, now);
}

std::optional<stream_consumer::clock::time_point> stream_consumer::next_deadline() const {
    std::optional<clock::time_point> first;
    for (const auto& [key, c] : consumers_)
        if ((c.at == phase::awaiting_answer || c.at == phase::refused) && (!first || c.retry_at < *first))
            first = c.retry_at;
    return first;
}

}  // namespace zmesh::detail::streams
