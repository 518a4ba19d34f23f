// SPDX-License-Identifier: MPL-2.0
// stream_publisher: appends and their commits, consumers joining and settling, dispatch,
// dead letters and retention.
#include "stream_publisher.hpp"

#include <msgpack.hpp>

#include <algorithm>

namespace zmesh::detail::streams {

namespace {

// A dead-letter stream's prefix: no topic holds a NUL, so it takes none.
const std::string no_topics(1, '\0');

// Records read at once for their keys (a group ordered by key): one read per window.
constexpr std::size_t key_window = 256;
constexpr std::size_t key_window_bytes = 1 << 20;
// Records to hand out that lie further apart than this are read apart.
constexpr std::uint64_t max_read_gap = 64;


}  // namespace

stream_publisher::stream_publisher(std::unique_ptr<log_store> store, stream_sink& sink, publisher_config config)
    : store_(std::move(store)), sink_(sink), config_(config) {
    config_.commit_every = std::max<std::size_t>(config_.commit_every, 1);
    refresh_topic_streams();
    for (const auto& s : store_->all()) last_at_open_.emplace(s.config.name, s.last_seq);
}

void stream_publisher::refresh_topic_streams() {
    topic_streams_.clear();
    for (const auto& s : store_->all())
        if (s.config.prefix.find('\0') == std::string::npos) topic_streams_.emplace_back(s.config.name, s.config.prefix);
}

void stream_publisher::declare(const stream_config& config) {
    store_->declare(config);
    refresh_topic_streams();
}

bool stream_publisher::remove(std::string_view stream) {
    std::erase_if(groups_, [&](const auto& g) { return g.first.first == stream; });
    if (const auto it = last_at_open_.find(stream); it != last_at_open_.end()) last_at_open_.erase(it);
    const bool removed = store_->remove(stream);
    refresh_topic_streams();
    return removed;
}

std::size_t stream_publisher::append(std::string_view topic, std::string_view key, std::span<const std::uint8_t> payload,
                                     std::uint64_t time_us, std::uint64_t ticket, clock::time_point now) {
    std::size_t taken = 0;
    for (const auto& [name, prefix] : topic_streams_) {
        if (!topic.starts_with(prefix)) continue;
        store_->append(name, time_us, key, payload);
        ++taken;
    }
    if (taken == 0) return 0;
    waiting_tickets_.push_back(ticket);
    if (!commit_due_) commit_due_ = now + config_.commit_within;
    if (waiting_tickets_.size() >= config_.commit_every) commit(now);
    return taken;
}

void stream_publisher::commit(clock::time_point now) {
    commit_due_.reset();
    // Positions that moved go in the same commit as the records.
    for (auto& [key, g] : groups_)
        if (g.group.position() != g.stored_position) {
            store_->set_position(key.first, key.second, g.group.position());
            g.stored_position = g.group.position();
        }
    bool ok = true;
    try {
        store_->commit();
    } catch (const store_error&) {
        ok = false;   // every publish of this batch hears it failed: nothing of it is stored
    }
    for (const auto t : std::exchange(waiting_tickets_, {})) sink_.stored(t, ok);
    dispatch(now);
}

std::uint64_t stream_publisher::start_position(const consume_request& r, const stream_state& s) const {
    const auto first = s.first_seq ? s.first_seq : s.last_seq + 1;
    switch (r.start) {
        case start_at::new_records: return s.last_seq;
        case start_at::first: return first - 1;
        case start_at::sequence: return std::max(r.start_value, first) - 1;
        case start_at::time: return store_->seq_at(r.stream, r.start_value) - 1;
    }
    return s.last_seq;
}

void stream_publisher::on_consume(const member_id& from, const consume_request& r, clock::time_point now) {
    const auto state = store_->state(r.stream);
    consume_answer a{r.stream, r.consumer, consume_status::ok, 0, 0, 0};
    if (!state) {
        a.status = consume_status::no_stream;
        sink_.answer(from, a);
        return;
    }
    const group_key key{r.stream, r.consumer};
    auto it = groups_.find(key);
    if (it == groups_.end() && groups_.size() >= config_.max_groups) {
        a.status = consume_status::too_many;
        ++refused_consumes_;
        sink_.answer(from, a);
        return;
    }
    if (it == groups_.end()) {
        // A consumer known to the log resumes where it was; a new one starts as asked, and is
        // known to the log from now on.
        const auto kept = store_->position(r.stream, r.consumer);
        const auto position = kept ? *kept : start_position(r, *state);
        it = groups_.emplace(key, group_entry{consumer_group(r.config, position), position, {}}).first;
        if (!kept) store_->set_position(r.stream, r.consumer, position);
        // The log keeps a consumer's position, not what was in flight past it: a record
        // acked or held when the last run ended is handed again, as a redelivery.
        if (const auto before = last_at_open_.find(r.stream); kept && before != last_at_open_.end())
            it->second.group.handed_before(before->second);
        if (state->first_seq > 0) it->second.group.trimmed_before(state->first_seq);
    }
    it->second.group.member_joined(from);
    a.first_seq = state->first_seq;
    a.last_seq = state->last_seq;
    a.position = it->second.group.position();
    a.ordered_by_key = it->second.group.config().ordered_by_key;   // as its first CONSUME asked
    sink_.answer(from, a);
    dispatch(it->first, it->second, now);
}

void stream_publisher::on_settle(const member_id& from, const settle_message& m, clock::time_point now) {
    const auto it = groups_.find(group_key{m.stream, m.consumer});
    if (it == groups_.end()) return;
    auto& g = it->second.group;
    consumer_group::verdict v = consumer_group::verdict::unknown;
    switch (m.kind) {
        case settle::ack: v = g.ack(from, m.seq, m.attempt); break;
        case settle::term: v = g.term(from, m.seq, m.attempt); break;
        case settle::nak: v = g.nak(from, m.seq, m.attempt, m.delay, now, m.error); break;
        case settle::in_progress: v = g.in_progress(from, m.seq, m.attempt, now); break;
    }
    if (v == consumer_group::verdict::stale) ++stale_settles_;
    // A moved position is written with the next commit, at the latest within commit_within.
    if (g.position() != it->second.stored_position && !commit_due_) commit_due_ = now + config_.commit_within;
    dispatch(it->first, it->second, now);
}

void stream_publisher::on_consume_end(const member_id& from, std::string_view stream, std::string_view consumer,
                                      clock::time_point now) {
    const auto it = groups_.find(group_key{std::string(stream), std::string(consumer)});
    if (it == groups_.end()) return;
    it->second.group.member_left(from, now);
    dispatch(it->first, it->second, now);
}

void stream_publisher::member_left(const member_id& m, clock::time_point now) {
    for (auto& [key, g] : groups_)
        if (g.group.has_member(m)) g.group.member_left(m, now);
    dispatch(now);
}

void stream_publisher::dispatch(clock::time_point now) {
    for (auto& [key, g] : groups_) dispatch(key, g, now);
}

void stream_publisher::dispatch(const group_key& key, group_entry& g, clock::time_point now) {
    const auto state = store_->state(key.first);
    if (!state) return;
    // An ordered group learns the keys of new records from the log, a window at a time, kept
    // across dispatches: it asks for them in rising order, one or a few per settle.
    consumer_group::key_reader key_of;
    if (g.group.config().ordered_by_key)
        key_of = [&](std::uint64_t seq) {
            auto& ahead = g.keys_ahead;
            while (!ahead.empty() && ahead.front().first < seq) ahead.pop_front();
            if (ahead.empty())
                for (auto& r : store_->read(key.first, seq, key_window, key_window_bytes))
                    ahead.emplace_back(r.seq, std::move(r.key));
            return !ahead.empty() && ahead.front().first == seq ? ahead.front().second : std::string();
        };
    auto out = g.group.next(state->last_seq, now, key_of);
    for (const auto& d : g.group.take_dead_letters()) {
        bury(key.first, d);
        ++g.dead_letters;
    }
    if (out.empty()) return;
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    // Read in runs of near records: a redelivery, or a record held back for its key, may lie
    // far behind the new ones, and what lies between is not to be read.
    for (auto run = out.begin(); run != out.end();) {
        auto end = std::next(run);
        while (end != out.end() && end->seq - std::prev(end)->seq <= max_read_gap) ++end;
        const auto first = run->seq, last = std::prev(end)->seq;
        auto records = store_->read(key.first, first, static_cast<std::size_t>(last - first + 1), SIZE_MAX);
        auto r = records.begin();
        for (; run != end; ++run) {
            const auto& d = *run;
            while (r != records.end() && r->seq < d.seq) ++r;
            if (r == records.end() || r->seq != d.seq) {
                g.group.term(d.member, d.seq, d.attempt);   // trimmed meanwhile: nothing to hand
                continue;
            }
            sink_.deliver(d.member, delivery_message{key.first, key.second, *r, d.attempt});
        }
    }
}

void stream_publisher::bury(const std::string& stream, const consumer_group::dead_letter& d) {
    const auto state = store_->state(stream);
    const std::string dlq = stream + ".dlq";
    if (!store_->state(dlq)) store_->declare({dlq, no_topics, state ? state->config.limits : retention{}});
    const auto records = store_->read(stream, d.seq, 1, SIZE_MAX);
    const bool kept = !records.empty() && records.front().seq == d.seq;
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> pack(buffer);
    pack.pack_map(5);
    pack.pack("stream");
    pack.pack(stream);
    pack.pack("seq");
    pack.pack(d.seq);
    pack.pack("attempts");
    pack.pack(d.attempts);
    pack.pack("error");
    pack.pack(d.last_error);
    pack.pack("payload");
    const auto& payload = kept ? records.front().payload : std::vector<std::uint8_t>{};
    pack.pack_bin(static_cast<std::uint32_t>(payload.size()));
    pack.pack_bin_body(reinterpret_cast<const char*>(payload.data()), static_cast<std::uint32_t>(payload.size()));
    store_->append(dlq, kept ? records.front().time_us : 0, kept ? records.front().key : std::string(),
                   std::span(reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size()));
    if (!commit_due_) commit_due_ = clock::time_point{};   // at the next timer: a dead letter is not left unstored
}

void stream_publisher::on_timers(clock::time_point now, std::uint64_t now_us) {
    if (commit_due_ && now >= *commit_due_) commit(now);
    for (auto& [key, g] : groups_) {
        g.group.expire(now);
        dispatch(key, g, now);
    }
    if (next_trim_ == clock::time_point{}) next_trim_ = now + config_.trim_every;   // a period after the start
    if (now >= next_trim_) {
        next_trim_ = now + config_.trim_every;
        commit(now);   // retention runs on what is stored
        for (const auto& s : store_->all()) {
            if (store_->trim(s.config.name, now_us) == 0) continue;
            const auto after = store_->state(s.config.name);
            const auto first = after->first_seq ? after->first_seq : after->last_seq + 1;
            for (auto& [key, g] : groups_)
                if (key.first == s.config.name) g.group.trimmed_before(first);
        }
    }
}

std::optional<stream_publisher::clock::time_point> stream_publisher::next_deadline() const {
    std::optional<clock::time_point> first = next_trim_;
    const auto consider = [&](std::optional<clock::time_point> t) {
        if (t && (!first || *t < *first)) first = t;
    };
    consider(commit_due_);
    for (const auto& [key, g] : groups_) consider(g.group.next_deadline());
    return first;
}

const consumer_group* stream_publisher::group(std::string_view stream, std::string_view consumer) const {
    const auto it = groups_.find(group_key{std::string(stream), std::string(consumer)});
    return it == groups_.end() ? nullptr : &it->second.group;
}

}  // namespace zmesh::detail::streams
