// SPDX-License-Identifier: MPL-2.0
// event input: what a fake peer publishes at a node that subscribed to everything — bad
// payloads, wrong frame counts, bad topics, strangers, oversized events, a foreign version,
// seq jumps — is dropped and counted, or counted as gaps; the node keeps delivering valid
// events.
#include "fake_peer.hpp"
#include "node_fixture.hpp"

#include "protocol/event.hpp"

#include <mutex>

namespace zmesh::test {
namespace {

using bytes = fake_peer::bytes;
using names = std::vector<std::string>;

const bytes topic = {'t', '.', 'x'};
const bytes one = {0x01};   // msgpack 1

class event_input : public node_fixture {
protected:
    fake_peer fake_;
    node* node_ = nullptr;
    mutable std::mutex mutex_;
    std::vector<std::uint64_t> delivered_;   // seq of each event the handler saw

    void SetUp() override {
        auto o = options_with_fakes("subscriber");
        o.max_event_size = 64;
        auto n = std::make_unique<node>(o);
        n->subscribe("", [this](const event& e) {
            std::lock_guard lock(mutex_);
            delivered_.push_back(e.seq());
        });
        n->start();
        node_ = n.get();
        nodes_.push_back(std::move(n));
        logs_.push_back(std::make_shared<event_log>());

        fake_.connect(*node_);
        fake_.say_hello(mesh_);
        ASSERT_TRUE(wait_until([&] { return joined_names(*node_) == names{"fake"}; }, 5s));
        // The node's SUB reached the fake's XPUB and subscribed: what the fake publishes now
        // is delivered to it, nothing is filtered away in a race.
        ASSERT_TRUE(fake_.wait_subscribed("", 5s)) << "the node never subscribed at the fake";
    }

    void TearDown() override {
        for (auto& n : nodes_) n->stop();   // before delivered_ goes away
    }

    // Returns: an event's body: its header, then `payload`.
    static bytes body(std::uint64_t seq, const bytes& payload, const protocol::node_id& sender) {
        const auto h = protocol::encode_event_header({sender, seq, 1});
        bytes b(h.size() + payload.size());
        std::copy(h.begin(), h.end(), b.begin());
        std::copy(payload.begin(), payload.end(), b.begin() + static_cast<std::ptrdiff_t>(h.size()));
        return b;
    }
    // Returns: the event's one frame: `topic`, 00, then `b`.
    static bytes with_topic(const bytes& b, const bytes& t = topic) {
        bytes f = t;
        f.push_back(0x00);
        f.insert(f.end(), b.begin(), b.end());
        return f;
    }
    bytes frame(std::uint64_t seq, const bytes& payload, const protocol::node_id& sender) const {
        return with_topic(body(seq, payload, sender));
    }
    bytes frame(std::uint64_t seq, const bytes& payload = one) const {
        return frame(seq, payload, fake_.id);
    }

    std::vector<std::uint64_t> delivered() const {
        std::lock_guard lock(mutex_);
        return delivered_;
    }
    const peer_info* fake_info(const std::vector<peer_info>& peers) const {
        for (const auto& p : peers)
            if (p.id == fake_.id) return &p;
        return nullptr;
    }

    // Publishes a valid event with `seq` and checks it is the next and only new delivery:
    // the node still works, and delivered nothing of what came before.
    void expect_delivered_next(std::uint64_t seq, std::size_t before) {
        fake_.publish({frame(seq)});
        ASSERT_TRUE(wait_until([&] { return delivered().size() > before; }, 3s))
            << "a valid event was not delivered";
        EXPECT_FALSE(wait_until([&] { return delivered().size() > before + 1; }, 100ms));
        EXPECT_EQ(delivered().back(), seq);
    }
};

TEST_F(event_input, valid_events_arrive_and_a_seq_jump_counts_as_gaps) {
    for (std::uint64_t seq : {1, 2, 5}) fake_.publish({frame(seq)});
    ASSERT_TRUE(wait_until([&] { return delivered().size() == 3; }, 3s)) << delivered().size();
    EXPECT_EQ(delivered(), (std::vector<std::uint64_t>{1, 2, 5}));
    const auto s = node_->stats();
    EXPECT_EQ(s.events_in, 3u);
    EXPECT_EQ(s.events_gaps, 2u);
    const auto peers = node_->peers();
    const auto* p = fake_info(peers);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->events_in, 3u);
    EXPECT_EQ(p->gaps, 2u);
}

TEST_F(event_input, gaps_are_counted_per_topic_when_topics_and_strangers_interleave) {
    // Sent back to back, so most land in one round of the reactor, where the sender's entry
    // and each topic's counter are looked up once and reused: a stranger or another topic in
    // between must not borrow them.
    const bytes a = {'t', '.', 'a'}, b = {'t', '.', 'b'};
    const auto stranger = protocol::node_id::random();
    fake_.publish({with_topic(body(1, one, fake_.id), a)});
    fake_.publish({with_topic(body(1, one, fake_.id), b)});
    fake_.publish({with_topic(body(9, one, stranger), a)});
    fake_.publish({with_topic(body(2, one, fake_.id), a)});
    fake_.publish({with_topic(body(3, one, fake_.id), b)});   // b skipped 2
    fake_.publish({with_topic(body(5, one, fake_.id), a)});   // a skipped 3 and 4
    fake_.publish({with_topic(body(4, one, fake_.id), b)});
    ASSERT_TRUE(wait_until([&] { return delivered().size() == 6; }, 3s)) << delivered().size();
    EXPECT_EQ(delivered(), (std::vector<std::uint64_t>{1, 1, 2, 3, 5, 4}));
    const auto s = node_->stats();
    EXPECT_EQ(s.events_unknown_sender, 1u);
    EXPECT_EQ(s.events_gaps, 3u);
    const auto peers = node_->peers();
    const auto* p = fake_info(peers);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->events_in, 6u);
    EXPECT_EQ(p->gaps, 3u);
}

TEST_F(event_input, payload_that_is_not_one_msgpack_object_is_dropped_and_counted) {
    fake_.publish({frame(1, {0xc1})});                 // never valid msgpack
    fake_.publish({frame(2, {0x92, 0x01})});           // array of 2, one present
    fake_.publish({frame(3, {0x01, 0x02})});           // two objects
    fake_.publish({frame(4, {})});                     // nothing
    EXPECT_TRUE(wait_until([&] { return node_->stats().events_invalid == 4; }, 3s))
        << node_->stats().events_invalid;
    expect_delivered_next(5, 0);
    EXPECT_EQ(node_->stats().events_in, 1u);
}

TEST_F(event_input, message_of_two_frames_or_more_is_dropped_and_counted) {
    fake_.publish({topic, body(1, one, fake_.id)});        // revision 3: [topic][body]
    fake_.publish({topic, body(2, one, fake_.id), one});   // revision 2: three frames
    fake_.publish({frame(3), frame(4)});                   // two valid frames in one message
    EXPECT_TRUE(wait_until([&] { return node_->stats().events_invalid == 3; }, 3s))
        << node_->stats().events_invalid;
    expect_delivered_next(5, 0);
}

TEST_F(event_input, topic_that_is_empty_unterminated_or_too_long_is_dropped_and_counted) {
    fake_.publish({with_topic(body(1, one, fake_.id), {})});   // empty topic
    fake_.publish({topic});                                   // no 00: the frame ends first
    fake_.publish({with_topic(body(2, one, fake_.id), bytes(256, 't'))});   // 256 bytes
    fake_.publish({with_topic(body(3, one, fake_.id), bytes(255, 't'))});   // 255: fine
    EXPECT_TRUE(wait_until([&] { return node_->stats().events_invalid == 3; }, 3s))
        << node_->stats().events_invalid;
    ASSERT_TRUE(wait_until([&] { return delivered().size() == 1; }, 3s));
    EXPECT_EQ(delivered().back(), 3u);
    expect_delivered_next(4, 1);
}

TEST_F(event_input, header_that_is_garbage_or_another_version_is_dropped_and_counted) {
    auto foreign = body(1, one, fake_.id);
    foreign[0] = 2;   // a version we do not speak
    fake_.publish({with_topic(foreign)});
    fake_.publish({with_topic({0x01, 0x20, 0xc1, 0x01})});
    fake_.publish({with_topic({0x01, 0x21, 0x90, 0x01})});   // not an event type
    fake_.publish({with_topic({})});                         // a topic and nothing else
    EXPECT_TRUE(wait_until([&] {
        const auto s = node_->stats();
        return s.frames_bad_version == 1 && s.events_invalid == 3;
    }, 3s)) << node_->stats().frames_bad_version << " " << node_->stats().events_invalid;
    expect_delivered_next(2, 0);
}

TEST_F(event_input, event_claiming_a_sender_the_node_never_met_is_dropped_and_counted) {
    fake_.publish({frame(1, one, protocol::node_id::random())});
    EXPECT_TRUE(wait_until([&] { return node_->stats().events_unknown_sender == 1; }, 3s));
    expect_delivered_next(1, 0);
}

TEST_F(event_input, payload_over_max_event_size_is_dropped_and_counted) {
    bytes big(102, 0x55);   // bin8 of 100 bytes: valid msgpack, over the limit of 64
    big[0] = 0xc4;
    big[1] = 100;
    fake_.publish({frame(1, big)});
    EXPECT_TRUE(wait_until([&] { return node_->stats().events_oversized == 1; }, 3s));
    expect_delivered_next(2, 0);
    // Refused, not missed: seq tracking starts with the first accepted event.
    EXPECT_EQ(node_->stats().events_gaps, 0u);
}

TEST_F(event_input, frame_far_over_max_event_size_is_refused_by_libzmq_and_the_node_recovers) {
    // 64 KiB against a limit of 64 + 1024: libzmq refuses it before allocating, drops the
    // connection for good; the node counts the drop, connects again, and the fake stays joined.
    fake_.publish({frame(1, bytes(64 * 1024, 0x55))});
    EXPECT_TRUE(wait_until([&] { return node_->stats().sub_revived == 1; }, 5s));
    EXPECT_EQ(node_->stats().sub_disconnects, 1u);
    // The XPUB may or may not pass the new subscription on (the old one's removal races
    // with it): publish until the new connection delivers.
    std::uint64_t seq = 1;
    EXPECT_TRUE(wait_until([&] {
        fake_.publish({frame(++seq)});
        return !delivered().empty();
    }, 5s)) << "the node's SUB did not come back";
    EXPECT_EQ(node_->stats().events_oversized, 0u);   // never read: nothing to count there
    EXPECT_EQ(joined_names(*node_), names{"fake"});
}

TEST_F(event_input, a_storm_of_bad_events_leaves_the_peer_joined_and_the_node_delivering) {
    const auto stranger = protocol::node_id::random();
    for (std::uint64_t i = 1; i <= 500; ++i) {
        fake_.publish({frame(i, {0xc1})});
        fake_.publish({frame(i, one, stranger)});
        fake_.publish({topic});
    }
    EXPECT_TRUE(wait_until([&] {
        const auto s = node_->stats();
        return s.events_invalid == 1000 && s.events_unknown_sender == 500;
    }, 5s)) << node_->stats().events_invalid << " " << node_->stats().events_unknown_sender;
    expect_delivered_next(501, 0);
    EXPECT_EQ(joined_names(*node_), names{"fake"});
    EXPECT_EQ(node_->stats().handler_errors, 0u);
}

TEST_F(event_input, events_published_while_unsubscribed_are_not_gaps_after_resubscribing) {
    auto owned = std::make_unique<node>(options_with_fakes("resubscriber"));
    auto& n = *owned;
    nodes_.push_back(std::move(owned));
    std::mutex m;
    std::vector<std::uint64_t> got;
    const auto handler = [&](const event& e) {
        std::lock_guard lock(m);
        got.push_back(e.seq());
    };
    const auto received = [&] {
        std::lock_guard lock(m);
        return got;
    };
    auto sub = n.subscribe("t.", handler);
    n.start();
    fake_peer pub;
    pub.connect(n);
    pub.say_hello(mesh_);
    ASSERT_TRUE(pub.wait_subscribed("t.", 5s));
    for (std::uint64_t seq : {1, 2}) pub.publish({frame(seq, one, pub.id)});
    ASSERT_TRUE(wait_until([&] { return received().size() == 2; }, 5s));

    n.unsubscribe(sub);
    ASSERT_TRUE(pub.wait_unsubscribed("t.", 5s));
    for (std::uint64_t seq : {3, 4}) pub.publish({frame(seq, one, pub.id)});   // filtered out
    sub = n.subscribe("t.", handler);
    ASSERT_TRUE(pub.wait_subscribed("t.", 5s));
    pub.publish({frame(5, one, pub.id)});
    ASSERT_TRUE(wait_until([&] { return received().size() == 3; }, 5s));
    EXPECT_EQ(received(), (std::vector<std::uint64_t>{1, 2, 5}));
    EXPECT_EQ(n.stats().events_gaps, 0u);   // 3 and 4 were not wanted, not missed
}

// A node that records, in the order its application sees them, the joins of two fake peers
// and the seq of every event; `intro` joins it, then lists `late`, which it dials.
class early_events : public event_input {
protected:
    fake_peer intro_, late_;
    node* watcher_ = nullptr;
    std::mutex seen_mutex_;
    std::vector<std::string> seen_;   // "joined intro|late" and "event SEQ"

    void start_watcher(milliseconds handshake) {
        auto o = options_with_fakes("watcher");
        o.liveness.handshake = handshake;
        auto w = std::make_unique<node>(o);
        w->on_peer_event([this](const peer_event& e) {
            if (e.kind != peer_event_kind::joined || (e.peer.id != intro_.id && e.peer.id != late_.id))
                return;   // the fixture's own node joins too, by beacon
            std::lock_guard lock(seen_mutex_);
            seen_.push_back(e.peer.id == intro_.id ? "joined intro" : "joined late");
        });
        w->subscribe("", [this](const event& e) {
            std::lock_guard lock(seen_mutex_);
            seen_.push_back("event " + std::to_string(e.seq()));
        });
        w->start();
        watcher_ = w.get();
        nodes_.push_back(std::move(w));
        intro_.connect(*watcher_);
        intro_.say_hello(mesh_);
        ASSERT_TRUE(intro_.wait_subscribed("", 5s));
        intro_.send({protocol::encode_control(protocol::peers{
            {{late_.id, "late", late_.pub_endpoint(), late_.router_endpoint()}}})});
        ASSERT_TRUE(late_.wait_subscribed("", 5s)) << "the watcher never dialled late";
    }

    // Publishes late's events 1..3 and then intro's event 100 on intro's connection (an event
    // is its header's sender's, whichever connection brought it). Returns once intro's was
    // delivered: late's have been read by then.
    void publish_for_late_then_intro() {
        for (std::uint64_t seq : {1, 2, 3}) intro_.publish({frame(seq, one, late_.id)});
        intro_.publish({frame(100, one, intro_.id)});
        ASSERT_TRUE(wait_until([&] { return seen().size() >= 2; }, 5s));
    }

    std::vector<std::string> seen() {
        std::lock_guard lock(seen_mutex_);
        return seen_;
    }
};

TEST_F(early_events, of_a_peer_still_in_handshake_reach_the_application_after_it_joined) {
    // Our SUB subscribes at a dialled peer's PUB before the peer's HELLO arrives, so its first
    // events can come first. The application must still see the peer join before any of them.
    start_watcher(5s);
    publish_for_late_then_intro();
    EXPECT_EQ(seen(), (std::vector<std::string>{"joined intro", "event 100"}));

    late_.connect(*watcher_);
    late_.say_hello(mesh_);
    ASSERT_TRUE(wait_until([&] { return seen().size() >= 6; }, 5s)) << seen().size();
    EXPECT_EQ(seen(), (std::vector<std::string>{"joined intro", "event 100", "joined late",
                                                "event 1", "event 2", "event 3"}));
    EXPECT_EQ(watcher_->stats().events_in, 4u);
    EXPECT_EQ(watcher_->stats().events_early_dropped, 0u);
}

TEST_F(early_events, of_a_peer_that_never_joins_are_dropped_and_counted) {
    start_watcher(300ms);   // late never says HELLO: dropped after this
    publish_for_late_then_intro();
    ASSERT_TRUE(wait_until([&] { return watcher_->stats().events_early_dropped == 3; }, 5s))
        << watcher_->stats().events_early_dropped;
    EXPECT_EQ(seen(), (std::vector<std::string>{"joined intro", "event 100"}));
    EXPECT_EQ(watcher_->stats().events_in, 1u);
}

}  // namespace
}  // namespace zmesh::test
