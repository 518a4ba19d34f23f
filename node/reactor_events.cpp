// SPDX-License-Identifier: MPL-2.0
// reactor, events half: publishing on the PUB, reading the SUB, per (sender, topic) gap
// counting, subscriptions and the SUBS / STATS control messages. Every byte read from the SUB
// comes from the network: decode errors are counted, never thrown.
#include "reactor.hpp"

#include "pipe.hpp"
#include "protocol/msgpack_io.hpp"

#include <algorithm>
#include <chrono>

namespace zmesh::detail {

bool reactor::receiving() const {
    return counters_->pending_events.load(std::memory_order_acquire) <
           static_cast<std::int64_t>(opts_.receive_queue);
}

std::uint64_t reactor::next_seq(std::string_view topic) {
    // Past max_topics_tracked the table restarts: subscribers see seq restart at 1, which
    // they do not count as a gap.
    bool added = false;
    return ++topic_seq_.at(topic, added);
}

void reactor::on_publish(zmq::message_t& msg) {
    // Laid out by node::send_event: a frame without a topic or header room here is a bug.
    const auto frame = std::span<std::uint8_t>(msg.data<std::uint8_t>(), msg.size());
    const auto topic_size = protocol::event_topic_size(frame);
    if (!topic_size || frame.size() < protocol::event_frame_size(*topic_size, 0)) return;
    const std::string_view topic(msg.data<char>(), *topic_size);
    if (round_unix_us_ == 0) round_unix_us_ = unix_now_us();
    const protocol::event_header h{id_, next_seq(topic), round_unix_us_};
    const auto body = frame.subspan(protocol::event_body_offset(*topic_size));
    protocol::write_event_header(h, body.first<protocol::event_header_size>());
    if (!prefixes_.empty())
        deliver_local(std::string(topic), h, body.subspan(protocol::event_header_size));
    // PUB never blocks: past send_hwm for a subscriber, libzmq drops for that subscriber.
    pub_.send(msg, zmq::send_flags::dontwait);
    touched(polled_pub);   // the send may take the signal of subscriptions waiting
    ++stats_.events_out;
}

namespace {
bool any_prefix_of(const std::map<std::string, int>& prefixes, const std::string& topic) {
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](const auto& p) { return topic.starts_with(p.first); });
}
}  // namespace

void reactor::deliver_local(const std::string& topic, const protocol::event_header& h,
                            std::span<const std::uint8_t> payload) {
    if (!any_prefix_of(prefixes_, topic)) return;
    const bool to_threads = any_prefix_of(thread_prefixes_, topic);
    if (to_threads && !receiving()) {
        ++stats_.local_dropped;
        if (reactor_subs_.empty()) return;
    }
    auto copy = std::make_shared<std::vector<std::uint8_t>>(payload.begin(), payload.end());
    const std::span<const std::uint8_t> view(*copy);
    event e(topic, id_, opts_.name, h.seq, h.sent_us, view, std::move(copy));
    run_reactor_handlers(e);
    if (to_threads && receiving()) outbox_.events().push_back(std::move(e));
    ++stats_.events_local;
}

void reactor::run_reactor_handlers(const event& e) {
    // Whatever a handler asks of this node is posted, so reactor_subs_ holds still here.
    for (const auto& s : reactor_subs_) {
        if (e.topic().starts_with(s.prefix)) counters_->run_guarded([&] { s.handler(e); });
    }
}

bool reactor::on_sub(clock::time_point now) {
    zmq::message_t frame, extra;
    // Nothing in this loop erases senders_ (reactor handlers post what they ask for), so the
    // run's entry pointer stays good.
    sender_run run;
    bool drained = false;
    for (int i = 0; i < max_batch && receiving(); ++i) {
        if (!sub_.recv(frame, zmq::recv_flags::dontwait)) {
            drained = true;
            break;
        }
        // One frame, nothing more.
        if (frame.more()) {
            while (sub_.get(zmq::sockopt::rcvmore)) (void)sub_.recv(extra);
            ++stats_.events_invalid;
            continue;
        }
        accept_event(frame, now, run);
    }
    outbox_.flush();
    if (!receiving()) ++stats_.receive_paused;
    return drained;
}

void reactor::accept_event(zmq::message_t& frame, clock::time_point now, sender_run& run) {
    const auto e = protocol::decode_event_frame(bytes_of(frame));
    if (!e) {
        ++(e.error() != protocol::errc::bad_version ? stats_.events_invalid
                                                     : stats_.frames_bad_version);
        return;
    }
    const auto& h = e->header;
    if (!run.entry || run.id != h.sender) {
        const auto it = senders_.find(h.sender);
        if (it == senders_.end()) {
            ++stats_.events_unknown_sender;
            return;
        }
        run = {h.sender, &it->second, false};
    }
    if (e->payload.size() > opts_.max_event_size) {
        ++stats_.events_oversized;
        return;
    }
    if (auto& s = *run.entry; !s.joined) {   // in handshake still: checked once it has joined
        if (s.early.size() < max_early_events && s.early_bytes + frame.size() <= max_early_bytes) {
            s.early_bytes += frame.size();
            s.early.push_back(std::move(frame));
        } else {
            ++stats_.events_early_dropped;
        }
        return;
    }
    if (protocol::check_msgpack(e->payload)) {
        ++stats_.events_invalid;
        return;
    }
    auto& s = *run.entry;
    bool first = false;
    auto& last = s.last_seq.at(e->topic, first);
    // The first event seen on a topic sets the baseline: what came before we joined is not
    // a gap. A seq at or below the last one means the sender restarted its count.
    if (!first && h.seq > last + 1) {
        s.gaps += h.seq - last - 1;
        stats_.events_gaps += h.seq - last - 1;
    }
    last = h.seq;
    ++s.events_in;
    ++stats_.events_in;
    if (!run.alive_noted) {
        // Any traffic is a sign of life: a peer busy publishing is never suspected. Once
        // per run is enough: `now` is the same for the whole round.
        run.alive_noted = true;
        if (auto* p = table_.find(h.sender))
            apply(table_.on_traffic(*p, now));
        else
            keep_draining(h.sender, now);
    }
    std::string topic_str(e->topic);

    // Handlers on the reactor are lent the payload inside the frame, which outlives them (a
    // copy of the event takes its own bytes); handler threads share the frame itself.
    if (!reactor_subs_.empty() && !any_prefix_of(thread_prefixes_, topic_str)) {
        const event lent(std::move(topic_str), h.sender, s.name, h.seq, h.sent_us, e->payload, nullptr);
        run_reactor_handlers(lent);
        return;
    }
    // A small payload is copied into a shared block (node/part_blocks.hpp); a larger one
    // keeps its frame.
    std::shared_ptr<const void> shared;
    std::span<const std::uint8_t> view;
    if (e->payload.size() <= part_blocks::max_part) {
        std::tie(shared, view) = payload_blocks_.copy(e->payload);
    } else {
        auto part = share_part(frame, e->payload);
        shared = std::move(part.frame);
        view = part.bytes;
    }
    if (reactor_subs_.empty()) {   // every event the SUB lets through is for the threads
        outbox_.events().emplace_back(std::move(topic_str), h.sender, s.name, h.seq, h.sent_us, view,
                            std::move(shared));
        return;
    }
    event ev(std::move(topic_str), h.sender, s.name, h.seq, h.sent_us, view, std::move(shared));
    run_reactor_handlers(ev);
    outbox_.events().push_back(std::move(ev));
}

void reactor::handle(subscribe_command& c) {
    subscription_prefix_[c.id] = {c.prefix, c.where};
    if (prefixes_[c.prefix]++ == 0) {
        touched(polled_sub);
        sub_.set(zmq::sockopt::subscribe, c.prefix);
        send_subs_to_all();
        connect_sub_to_all();   // the first subscription: now events are wanted
    }
    if (c.where == run_on::reactor) {
        reactor_subs_.push_back({c.id, std::move(c.prefix), std::move(c.handler)});
        return;
    }
    ++thread_prefixes_[c.prefix];
    outbox_.flush();   // events already read keep going to the handlers of their time
    outbox_.send(subscription_added{c.id, std::move(c.prefix), std::move(c.handler)});
}

void reactor::handle(unsubscribe_command& c) {
    const auto it = subscription_prefix_.find(c.id);
    if (it == subscription_prefix_.end()) return;
    // Named copies, not a structured binding: the lambda below captures the prefix.
    const std::string prefix = std::move(it->second.prefix);
    const run_on where = it->second.where;
    subscription_prefix_.erase(it);
    if (--prefixes_[prefix] == 0) {
        prefixes_.erase(prefix);
        touched(polled_sub);
        sub_.set(zmq::sockopt::unsubscribe, prefix);
        send_subs_to_all();
        // What is published on those topics from now on is not wanted, not missed: the
        // first event after a new subscription sets a new baseline, it is no gap.
        const auto unwanted = [&](std::string_view topic) {
            return topic.starts_with(prefix) && !any_prefix_of(prefixes_, std::string(topic));
        };
        for (auto& [id, s] : senders_) s.last_seq.forget_if(unwanted);
    }
    if (where == run_on::reactor) {
        std::erase_if(reactor_subs_, [&](const auto& s) { return s.id == c.id; });
        return;
    }
    if (--thread_prefixes_[prefix] == 0) thread_prefixes_.erase(prefix);
    outbox_.flush();
    outbox_.send(subscription_removed{c.id});
}

void reactor::send_subs(const node_id& to) {
    if (opts_.observer) return;
    protocol::subs s;
    for (const auto& [prefix, count] : prefixes_) s.prefixes.push_back(prefix);
    send_to(to, s);
}

void reactor::send_subs_to_all() {
    // Only to peers whose PUB our SUB reached: the filters travel on that connection first.
    for (const auto& [id, p] : table_.all())
        if (p.state != peer_state::connecting && sub_ready_.count(p.pub_endpoint)) send_subs(id);
}

void reactor::release_early_events(const node_id& id, clock::time_point now) {
    const auto it = senders_.find(id);
    if (it == senders_.end()) return;
    it->second.joined = true;
    sender_run run;
    for (auto& frame : it->second.take_early()) accept_event(frame, now, run);
    outbox_.flush();
}

void reactor::on_peer_joined(const discovery::peer& p) {
    // With no SUB connection to it we want nothing: that needs no filter to travel first.
    if (sub_ready_.count(p.pub_endpoint) || (!sub_links_.count(p.pub_endpoint) && !wants_events()))
        send_subs(p.id);
}

void reactor::on_sub_handshake(const std::string& pub_endpoint) {
    sub_ready_.insert(pub_endpoint);
    if (auto* p = table_.find_by_pub_endpoint(pub_endpoint); p && p->state != peer_state::connecting)
        send_subs(p->id);
}

void reactor::on_subs(discovery::peer& p, protocol::subs&& s) {
    p.subscriptions = std::move(s.prefixes);
    p.subscriptions_known = true;
    // libzmq applies a PUB's incoming filters lazily, on its next command check. This
    // peer's filters came before its SUBS: make the PUB take them now, so an event published
    // right after "subscriptions known" is not filtered out, and count them now.
    (void)pub_.get(zmq::sockopt::events);
    on_pub();
}

void reactor::on_stats_query(const node_id& from) {
    // Every counter fits one STATS, so encoding it never fails for its size.
    static_assert(std::size(node_counters) <= protocol::max_stats_counters);
    send_to(from, protocol::stats{counters_of(current_stats())});
}

void reactor::poll_peer_stats() {
    for (const auto& [id, p] : table_.all())
        if (p.state != peer_state::connecting && !p.observer) send_to(id, protocol::stats_query{});
}

void reactor::forget_sender_later(const node_id& id, const std::string& pub_endpoint) {
    // Events the peer sent before its LEAVE may still be on the way (LEAVE travels on another
    // connection) or queued unread: keep the SUB connected and the sender known until none
    // has come for leave_drain.
    pending_disconnects_.push_back({pub_endpoint, id, clock::now() + leave_drain});
    sub_ready_.erase(pub_endpoint);
}

void reactor::stop_events_now(const node_id& id, const std::string& pub_endpoint) {
    std::erase_if(pending_disconnects_, [&](const pending_disconnect& d) { return d.id == id; });
    senders_.erase(id);   // what is still queued from it is dropped as an unknown sender's
    sub_ready_.erase(pub_endpoint);
    sub_dropped_.erase(pub_endpoint);
    if (!sub_links_.erase(pub_endpoint)) return;
    touched(polled_sub);
    try {
        sub_.disconnect(pub_endpoint);
    } catch (const zmq::error_t&) {
        // ENOENT: already gone.
    }
}

void reactor::keep_draining(const node_id& id, clock::time_point now) {
    // A departed peer's events are still coming: disconnect only once they stop.
    for (auto& d : pending_disconnects_)
        if (d.id == id) d.at = std::max(d.at, now + leave_drain);
}

void reactor::run_pending_disconnects(clock::time_point now) {
    // Unread events may be from a departed peer: wait until the handlers catch up.
    if (!receiving()) return;
    std::erase_if(pending_disconnects_, [&](const pending_disconnect& d) {
        if (now < d.at) return false;
        if (!table_.find(d.id)) senders_.erase(d.id);
        if (!sub_links_.erase(d.pub_endpoint)) return true;
        touched(polled_sub);
        try {
            sub_.disconnect(d.pub_endpoint);
        } catch (const zmq::error_t&) {
            // ENOENT: already gone. Nothing else can fail for an endpoint we connected.
        }
        return true;
    });
}

}  // namespace zmesh::detail
