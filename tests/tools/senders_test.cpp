// SPDX-License-Identifier: MPL-2.0
// senders: zmesh sub takes it that no more events will come once every publisher it heard
// from has left and nothing came for the grace; not before, and never with no publisher.
#include "tools/senders.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

TEST(senders, all_left_once_the_only_one_left_and_nothing_came_for_the_grace) {
    cli::senders s(500ms);
    const auto t0 = steady::now();
    const auto pub = node_id::random();
    s.event_from(pub, t0);
    s.event_done(t0);
    EXPECT_FALSE(s.all_left(t0 + 10s)) << "it is still there";
    s.peer(pub, peer_event_kind::left, t0 + 1s);
    EXPECT_FALSE(s.all_left(t0 + 1s + 499ms)) << "its events may still be on the way";
    EXPECT_TRUE(s.all_left(t0 + 1s + 500ms));
}

TEST(senders, an_event_in_flight_after_the_leave_restarts_the_grace_and_revives_no_one) {
    cli::senders s(500ms);
    const auto t0 = steady::now();
    const auto pub = node_id::random();
    s.event_from(pub, t0);
    s.event_done(t0);
    s.peer(pub, peer_event_kind::left, t0 + 100ms);
    s.event_from(pub, t0 + 400ms);
    EXPECT_FALSE(s.all_left(t0 + 800ms)) << "being handled";
    s.event_done(t0 + 2s);   // a slow reader of the output
    EXPECT_FALSE(s.all_left(t0 + 2s + 499ms));
    EXPECT_TRUE(s.all_left(t0 + 2s + 500ms));
}

TEST(senders, waits_for_every_sender_and_for_one_that_joined_again) {
    cli::senders s(500ms);
    const auto t0 = steady::now();
    const auto a = node_id::random(), b = node_id::random();
    for (const auto& id : {a, b}) {
        s.event_from(id, t0);
        s.event_done(t0);
    }
    EXPECT_EQ(s.count(), 2u);
    s.peer(a, peer_event_kind::left, t0);
    EXPECT_FALSE(s.all_left(t0 + 5s)) << "b is still there";
    s.peer(b, peer_event_kind::evasive, t0);
    EXPECT_FALSE(s.all_left(t0 + 5s)) << "evasive is not gone";
    s.peer(b, peer_event_kind::left, t0 + 5s);
    s.peer(b, peer_event_kind::left, t0 + 5s);   // told twice, counted once
    s.peer(a, peer_event_kind::joined, t0 + 5s);   // it had expired, and came back
    EXPECT_FALSE(s.all_left(t0 + 10s));
    s.peer(a, peer_event_kind::left, t0 + 10s);
    EXPECT_TRUE(s.all_left(t0 + 10s + 500ms));
}

TEST(senders, a_peer_that_sent_nothing_is_no_sender_and_no_sender_never_all_left) {
    cli::senders s(500ms);
    const auto t0 = steady::now();
    s.peer(node_id::random(), peer_event_kind::joined, t0);
    s.peer(node_id::random(), peer_event_kind::left, t0);
    EXPECT_EQ(s.count(), 0u);
    EXPECT_FALSE(s.all_left(t0 + 1h)) << "no event yet: it waits for a publisher";
    const auto pub = node_id::random();
    s.event_from(pub, t0);
    s.event_done(t0);
    s.peer(node_id::random(), peer_event_kind::left, t0 + 1s);
    EXPECT_FALSE(s.all_left(t0 + 1h)) << "another peer's leave says nothing of the sender";
}

}  // namespace
}  // namespace zmesh::test
