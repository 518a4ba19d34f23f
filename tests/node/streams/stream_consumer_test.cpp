// SPDX-License-Identifier: MPL-2.0
// The member's side of durable consumers, without sockets: when CONSUME goes out, dedup of
// deliveries, the bound on what is held, settles refused when stale and batched when not,
// link loss and re-subscription; then a stream_publisher and several consumers against each
// other through wire-encoded frames, with members that crash, nak, settle late and come back.
#include "node/streams/stream_consumer.hpp"

#include "node/streams/stream_publisher.hpp"
#include "node/streams/wire.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <map>
#include <set>

namespace zmesh::detail::streams {
namespace {

using namespace std::chrono_literals;
using clock = stream_consumer::clock;
using handed = stream_consumer::handed;

const publisher_id pub = *publisher_id::from_hex("3f9a1c7e5b2d4e8f9a0b1c2d3e4f5061");
const consumer_key key{pub, "orders", "billing"};
const std::vector<std::uint8_t> payload = {0xa1, 'x'};

consume_request request(std::uint32_t max_in_flight = 4) {
    consume_request r{"orders", "billing", start_at::first, 0, {}};
    r.config.max_in_flight = max_in_flight;
    return r;
}
protocol::stream_deliver deliver(std::uint64_t seq, std::uint32_t attempt) {
    return {"orders", "billing", seq, attempt, 0, "", payload};
}

class stream_consumer_test : public ::testing::Test {
protected:
    // Starts the consumer with its link up and answers it.
    void consuming(std::uint32_t max_in_flight = 4) {
        c_.start(pub, request(max_in_flight), true, t0_);
        ASSERT_EQ(c_.on_answer(pub, {"orders", "billing", consume_status::ok, 1, 10, 0}, t0_), consume_status::ok);
        (void)c_.take_outgoing();
    }
    stream_consumer c_{1s};
    clock::time_point t0_ = clock::now();
};

TEST_F(stream_consumer_test, sends_consume_at_start_or_once_the_link_is_up) {
    c_.start(pub, request(), false, t0_);
    EXPECT_TRUE(c_.take_outgoing().empty());
    c_.publisher_link_up(pub, t0_);
    const auto out = c_.take_outgoing();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].to, pub);
    EXPECT_EQ(std::get<consume_request>(out[0].message).consumer, "billing");
    EXPECT_THROW(c_.start(pub, request(), true, t0_), std::invalid_argument);   // already running
    auto bad = request();
    bad.consumer = "other";
    bad.config.max_in_flight = 0;
    EXPECT_THROW(c_.start(pub, bad, true, t0_), std::invalid_argument);
}

TEST_F(stream_consumer_test, drops_deliveries_before_the_answer_and_for_no_consumer) {
    c_.start(pub, request(), true, t0_);
    EXPECT_EQ(c_.on_deliver(pub, deliver(1, 1)), handed::not_consuming);
    EXPECT_EQ(c_.on_deliver(publisher_id::random(), deliver(1, 1)), handed::not_consuming);
    EXPECT_EQ(c_.counters().unexpected_dropped, 2u);
}

TEST_F(stream_consumer_test, hands_each_first_attempt_once_and_higher_attempts_as_redeliveries) {
    consuming();
    EXPECT_EQ(c_.on_deliver(pub, deliver(1, 1)), handed::fresh);
    EXPECT_EQ(c_.on_deliver(pub, deliver(1, 1)), handed::duplicate);   // held at that attempt
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 1)), handed::fresh);
    EXPECT_TRUE(c_.settle(key, 2, 1, settle::ack));
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 1)), handed::duplicate);   // below the first-attempt mark
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 3)), handed::redelivery);  // e.g. from a member that left
    EXPECT_EQ(c_.on_deliver(pub, deliver(1, 2)), handed::redelivery);  // its ack wait ran out
    EXPECT_FALSE(c_.settle(key, 1, 1, settle::ack));                   // superseded attempt
    EXPECT_TRUE(c_.settle(key, 1, 2, settle::ack));
    EXPECT_EQ(c_.counters().delivered, 4u);
    EXPECT_EQ(c_.counters().redelivered, 2u);
    EXPECT_EQ(c_.counters().duplicates_dropped, 2u);
    EXPECT_EQ(c_.counters().stale_settles_refused, 1u);
}

TEST_F(stream_consumer_test, ordered_by_key_takes_first_attempts_below_the_highest_once) {
    c_.start(pub, request(), true, t0_);
    consume_answer a{"orders", "billing", consume_status::ok, 1, 10, 0};
    a.ordered_by_key = true;   // the publisher holds records back for their key
    ASSERT_EQ(c_.on_answer(pub, a, t0_), consume_status::ok);
    EXPECT_EQ(c_.on_deliver(pub, deliver(3, 1)), handed::fresh);
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 1)), handed::fresh);       // held back behind 1
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 1)), handed::duplicate);   // held at that attempt
    EXPECT_TRUE(c_.settle(key, 2, 1, settle::ack));
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 2)), handed::redelivery);
}

TEST_F(stream_consumer_test, drops_deliveries_beyond_max_in_flight_until_one_is_settled) {
    consuming(2);
    EXPECT_EQ(c_.on_deliver(pub, deliver(1, 1)), handed::fresh);
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 1)), handed::fresh);
    EXPECT_EQ(c_.on_deliver(pub, deliver(3, 1)), handed::over_limit);
    EXPECT_EQ(c_.held(key), 2u);
    EXPECT_TRUE(c_.settle(key, 1, 1, settle::in_progress));   // still held
    EXPECT_EQ(c_.on_deliver(pub, deliver(4, 1)), handed::over_limit);
    EXPECT_TRUE(c_.settle(key, 1, 1, settle::term));
    EXPECT_EQ(c_.on_deliver(pub, deliver(3, 2)), handed::redelivery);   // the publisher tried again
    EXPECT_EQ(c_.counters().over_limit_dropped, 2u);
}

TEST_F(stream_consumer_test, refuses_to_settle_twice_or_what_it_does_not_hold) {
    consuming();
    EXPECT_EQ(c_.on_deliver(pub, deliver(5, 1)), handed::fresh);
    EXPECT_TRUE(c_.settle(key, 5, 1, settle::nak, 250ms, "busy"));
    EXPECT_FALSE(c_.settle(key, 5, 1, settle::ack));
    EXPECT_FALSE(c_.settle(key, 6, 1, settle::ack));
    EXPECT_FALSE(c_.settle({pub, "orders", "other"}, 5, 1, settle::ack));
    EXPECT_EQ(c_.counters().stale_settles_refused, 3u);
    const auto out = c_.take_outgoing();
    ASSERT_EQ(out.size(), 1u);
    const auto& batch = std::get<settle_batch>(out[0].message);
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(batch[0].kind, settle::nak);
    EXPECT_EQ(batch[0].delay, 250ms);
    EXPECT_EQ(batch[0].error, "busy");
}

TEST_F(stream_consumer_test, batches_consecutive_settles_in_order_up_to_the_frame_limit) {
    consuming(static_cast<std::uint32_t>(protocol::max_settle_batch + 10));
    for (std::uint64_t seq = 1; seq <= protocol::max_settle_batch + 10; ++seq) {
        ASSERT_EQ(c_.on_deliver(pub, deliver(seq, 1)), handed::fresh);
        ASSERT_TRUE(c_.settle(key, seq, 1, settle::ack));
    }
    EXPECT_TRUE(c_.stop(key));   // END after every settle
    const auto out = c_.take_outgoing();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(std::get<settle_batch>(out[0].message).size(), protocol::max_settle_batch);
    EXPECT_EQ(std::get<settle_batch>(out[1].message).size(), 10u);
    EXPECT_EQ(std::get<settle_batch>(out[1].message).front().seq, protocol::max_settle_batch + 1);
    EXPECT_EQ(std::get<consume_end>(out[2].message).consumer, "billing");
    EXPECT_EQ(c_.counters().settles_sent, protocol::max_settle_batch + 10);
    // Each batch is one SETTLE frame that decodes to the same settles.
    const auto frame = protocol::encode_stream_frame(to_wire(std::get<settle_batch>(out[0].message)));
    const auto back = protocol::decode_stream_settle(frame);
    ASSERT_TRUE(back);
    EXPECT_EQ(from_wire(*back).size(), protocol::max_settle_batch);
}

TEST_F(stream_consumer_test, forgets_what_it_held_when_the_link_drops_and_consumes_again_when_it_is_back) {
    consuming();
    EXPECT_EQ(c_.on_deliver(pub, deliver(1, 1)), handed::fresh);
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 1)), handed::fresh);
    EXPECT_TRUE(c_.settle(key, 1, 1, settle::ack));   // made, never sent: the link drops first
    c_.publisher_link_lost(pub);
    EXPECT_TRUE(c_.take_outgoing().empty());
    EXPECT_EQ(c_.held(key), 0u);
    EXPECT_EQ(c_.counters().forgotten_on_link_loss, 1u);
    EXPECT_FALSE(c_.settle(key, 2, 1, settle::ack));
    EXPECT_EQ(c_.on_deliver(pub, deliver(3, 1)), handed::not_consuming);
    EXPECT_FALSE(c_.stop({pub, "orders", "nothing"}));

    c_.publisher_link_up(pub, t0_ + 1s);
    const auto out = c_.take_outgoing();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<consume_request>(out[0].message));
    ASSERT_TRUE(c_.on_answer(pub, {"orders", "billing", consume_status::ok, 1, 10, 0}, t0_ + 1s));
    // The same publisher: the records come again with new attempts.
    EXPECT_EQ(c_.on_deliver(pub, deliver(2, 2)), handed::redelivery);
    // A publisher that restarted counts attempts from 1 again: handed, but not as fresh.
    EXPECT_EQ(c_.on_deliver(pub, deliver(1, 1)), handed::redelivery);
    EXPECT_EQ(c_.on_deliver(pub, deliver(3, 1)), handed::fresh);
}

TEST_F(stream_consumer_test, asks_again_when_refused_or_unanswered) {
    c_.start(pub, request(), true, t0_);
    (void)c_.take_outgoing();
    EXPECT_EQ(c_.next_deadline(), t0_ + 1s);
    c_.on_timer(t0_ + 1s);   // no answer: asks again
    EXPECT_EQ(c_.take_outgoing().size(), 1u);
    EXPECT_EQ(c_.on_answer(pub, {"orders", "billing", consume_status::no_stream, 0, 0, 0}, t0_ + 1s),
              consume_status::no_stream);
    EXPECT_FALSE(c_.on_answer(pub, {"orders", "billing", consume_status::ok, 0, 0, 0}, t0_ + 1s));   // unasked
    c_.on_timer(t0_ + 1500ms);
    EXPECT_TRUE(c_.take_outgoing().empty());
    c_.on_timer(t0_ + 2s);
    EXPECT_EQ(c_.take_outgoing().size(), 1u);
    EXPECT_TRUE(c_.stop(key));   // it asked: END, in case the publisher took it
    EXPECT_EQ(c_.take_outgoing().size(), 1u);
    EXPECT_FALSE(c_.next_deadline());
}


// ---- a publisher and its consumers, through wire frames ------------------------------------

// The links between one publisher and its members: frames each way, encoded with the
// protocol codec and decoded on the other side, FIFO per direction, lost while a link is down.
class wire_loop : public stream_sink {
public:
    struct member {
        explicit member(member_id who) : id(who) {}
        member_id id;
        std::unique_ptr<stream_consumer> consumer = std::make_unique<stream_consumer>(1s);
        bool linked = true;
        // What its application does with a record it is handed, and when.
        struct action {
            clock::time_point due;
            settle kind;
            std::string error;
        };
        struct work {
            consumer_key key;
            std::uint64_t seq;
            std::uint32_t attempt;
            action what;
        };
        std::vector<work> inbox;   // handed to the application, not yet settled by it
    };

    void deliver(const member_id& to, const delivery_message& d) override {
        if (d.stream == "jobs" && std::string(d.rec.payload.begin(), d.rec.payload.end()) == poison) ++poison_deliveries;
        to_members.emplace_back(to, protocol::encode_stream_frame(to_wire(d)));
    }
    void answer(const member_id& to, const consume_answer& a) override {
        to_members.emplace_back(to, protocol::encode_stream_frame(to_wire(a)));
    }
    void stored(std::uint64_t, bool ok) override { EXPECT_TRUE(ok); }

    // Carries every frame both ways until none is left; each member's application decides
    // what to do with each record it is handed (`decide`).
    template <class Decide>
    void pump(stream_publisher& publisher, clock::time_point now, Decide decide) {
        for (bool moved = true; moved;) {
            moved = false;
            for (auto& m : members) {
                for (auto& o : m.consumer->take_outgoing()) {
                    moved = true;
                    if (m.linked) to_publisher(publisher, m.id, o, now);
                }
            }
            for (auto frames = std::exchange(to_members, {}); auto& [to, frame] : frames) {
                moved = true;
                auto& m = find(to);
                if (m.linked) to_member(m, frame, now, decide);
            }
        }
    }
    member& find(const member_id& id) {
        return *std::find_if(members.begin(), members.end(), [&](const member& m) { return m.id == id; });
    }

    static constexpr const char* poison = "poison";
    std::vector<member> members;
    std::deque<std::pair<member_id, std::vector<std::uint8_t>>> to_members;
    std::map<std::uint64_t, int> fresh_handed, accepted_acks;
    std::set<std::tuple<member_id, std::string, std::uint64_t, std::uint32_t>> handed_once;
    int poison_deliveries = 0, duplicate_hands = 0;
    std::vector<delivery_message> dead_letters;

private:
    void to_publisher(stream_publisher& publisher, const member_id& from, const outgoing& o, clock::time_point now) {
        std::vector<std::uint8_t> frame;
        std::visit([&](const auto& message) { frame = protocol::encode_stream_frame(to_wire(message)); }, o.message);
        switch (frame[1]) {
            case protocol::stream_consume_type:
                publisher.on_consume(from, from_wire(*protocol::decode_stream_consume(frame)), now);
                break;
            case protocol::stream_end_type: {
                const auto end = from_wire(*protocol::decode_stream_end(frame));
                publisher.on_consume_end(from, end.stream, end.consumer, now);
                break;
            }
            default:
                for (const auto& s : from_wire(*protocol::decode_stream_settle(frame))) {
                    const auto stale_before = publisher.stale_settles();
                    publisher.on_settle(from, s, now);
                    if (s.stream == "jobs" && s.kind == settle::ack && publisher.stale_settles() == stale_before)
                        ++accepted_acks[s.seq];
                }
        }
    }
    template <class Decide>
    void to_member(member& m, const std::vector<std::uint8_t>& frame, clock::time_point now, Decide& decide) {
        if (frame[1] == protocol::stream_answer_type) {
            (void)m.consumer->on_answer(pub, from_wire(*protocol::decode_stream_answer(frame)), now);
            return;
        }
        const auto d = protocol::decode_stream_deliver(frame);
        ASSERT_TRUE(d);
        const auto verdict = m.consumer->on_deliver(pub, *d);
        if (verdict != handed::fresh && verdict != handed::redelivery) return;
        const auto value = from_wire(*d);
        if (!handed_once.emplace(m.id, value.stream, d->seq, d->attempt).second) ++duplicate_hands;
        if (verdict == handed::fresh && value.stream == "jobs") ++fresh_handed[d->seq];
        consumer_key key{pub, value.stream, value.consumer};
        if (value.stream == "jobs.dlq") {
            dead_letters.push_back(value);
            m.inbox.push_back({std::move(key), d->seq, d->attempt, {now, settle::ack, ""}});
            return;
        }
        m.inbox.push_back({std::move(key), d->seq, d->attempt, decide(m, value, now)});
    }
};

TEST(stream_consumer_loop, every_record_is_acked_once_and_the_poison_is_dead_after_max_deliveries) {
    const auto dir = std::filesystem::temp_directory_path() / ("zmesh-consumer-loop-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    wire_loop loop;
    stream_publisher publisher(open_sqlite_store((dir / "log.db").string(), durability::os), loop,
                               publisher_config{.commit_every = 64, .commit_within = 2ms});
    publisher.declare({"jobs", "jobs.", {}});
    const auto t0 = clock::now();
    consume_request workers{"jobs", "workers", start_at::first, 0, {}};
    workers.config = {100ms, 5, {10ms}, 4};
    for (const char* hex : {"a0000000000000000000000000000001", "b0000000000000000000000000000002",
                            "c0000000000000000000000000000003"}) {
        loop.members.emplace_back(*member_id::from_hex(hex));
        loop.members.back().consumer->start(pub, workers, true, t0);
    }
    auto &a = loop.members[0], &b = loop.members[1], &c = loop.members[2];
    constexpr std::uint64_t records = 60, poison_seq = 7;

    // A is a slow worker that naks the first attempt of every seventh record, B acks every
    // fifth record's first attempt only after its ack wait has passed, everyone naks the
    // poison, the rest is acked.
    const auto decide = [&](wire_loop::member& m, const delivery_message& d, clock::time_point now) -> wire_loop::member::action {
        if (std::string(d.rec.payload.begin(), d.rec.payload.end()) == wire_loop::poison) return {now, settle::nak, "poison"};
        if (&m == &a && d.attempt == 1 && d.rec.seq % 7 == 3) return {now, settle::nak, "transient"};
        if (&m == &b && d.attempt == 1 && d.rec.seq % 5 == 0) return {now + 150ms, settle::ack, ""};
        return {now + (&m == &a ? 20ms : 1ms), settle::ack, ""};
    };
    const auto publish = [&](std::uint64_t from, std::uint64_t to, clock::time_point now) {
        for (auto seq = from; seq <= to; ++seq) {
            const std::string body = seq == poison_seq ? wire_loop::poison : "job-" + std::to_string(seq);
            publisher.append("jobs.run", "", std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()),
                             1'700'000'000'000'000 + seq, seq, now);
        }
    };

    int stale_refused_by_apps = 0;
    for (auto now = t0; now < t0 + 5s; now += 5ms) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - t0).count();
        if (ms == 0) publish(1, 30, now);
        if (ms == 120) publish(31, records, now);
        if (ms == 60) {   // C crashes: its process and what its application held are gone
            c.linked = false;
            c.inbox.clear();
            publisher.member_left(c.id, now);
        }
        if (ms == 100) {   // C is back, a new process
            c = wire_loop::member(c.id);
            c.consumer->start(pub, workers, true, now);
        }
        if (ms == 130) {   // A's link drops; its application still works on what it holds
            a.linked = false;
            a.consumer->publisher_link_lost(pub);
            publisher.member_left(a.id, now);
        }
        if (ms == 180) {
            a.linked = true;
            a.consumer->publisher_link_up(pub, now);
        }
        if (ms == 1000) {   // someone reads the dead letters
            consume_request inspect{"jobs.dlq", "inspect", start_at::first, 0, {}};
            b.consumer->start(pub, inspect, true, now);
        }
        publisher.on_timers(now, 1'700'000'000'000'000);
        for (auto& m : loop.members) {
            m.consumer->on_timer(now);
            std::erase_if(m.inbox, [&](const wire_loop::member::work& w) {
                if (w.what.due > now) return false;
                if (!m.consumer->settle(w.key, w.seq, w.attempt, w.what.kind, 0ms, w.what.error)) ++stale_refused_by_apps;
                return true;
            });
        }
        loop.pump(publisher, now, decide);
    }

    const auto* group = publisher.group("jobs", "workers");
    ASSERT_TRUE(group);
    EXPECT_EQ(group->position(), records);   // everything done: acked, or dead
    EXPECT_EQ(group->in_flight(), 0u);
    for (std::uint64_t seq = 1; seq <= records; ++seq) {
        EXPECT_EQ(loop.accepted_acks[seq], seq == poison_seq ? 0 : 1) << "seq " << seq;
        EXPECT_LE(loop.fresh_handed[seq], 1) << "seq " << seq;
    }
    EXPECT_EQ(loop.duplicate_hands, 0);
    EXPECT_EQ(loop.poison_deliveries, 5);
    ASSERT_EQ(loop.dead_letters.size(), 1u);
    const auto letter = msgpack::unpack(reinterpret_cast<const char*>(loop.dead_letters[0].rec.payload.data()),
                                        loop.dead_letters[0].rec.payload.size());
    const auto fields = letter.get().as<std::map<std::string, msgpack::object>>();
    EXPECT_EQ(fields.at("seq").as<std::uint64_t>(), poison_seq);
    EXPECT_EQ(fields.at("attempts").as<std::uint32_t>(), 5u);
    EXPECT_EQ(fields.at("error").as<std::string>(), "poison");
    // What the members did: late acks, a crash and a dropped link all happened.
    EXPECT_GT(publisher.stale_settles() + static_cast<std::uint64_t>(stale_refused_by_apps), 0u);
    EXPECT_GT(a.consumer->counters().forgotten_on_link_loss, 0u);
    EXPECT_GT(c.consumer->counters().delivered, 0u);   // the new C took part
    EXPECT_GT(group->redeliveries(), 0u);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zmesh::detail::streams
