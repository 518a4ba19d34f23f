// SPDX-License-Identifier: MPL-2.0
// forgery: what a stranger in a plain mesh can send in a member's name — a beacon naming a
// new id at its endpoints, a LEAVE or a HELLO over a fresh connection with its routing id —
// changes nothing about that member, and is counted. The member's own messages still count.
#include "node_fixture.hpp"

#include "discovery/beacon_socket.hpp"
#include "protocol/beacon.hpp"
#include "protocol/control.hpp"
#include "protocol/endpoint.hpp"

#include <zmq.hpp>

namespace zmesh::test {
namespace {

using names = std::vector<std::string>;

class forgery : public node_fixture {
protected:
    zmq::context_t ctx_;
    discovery::beacon_socket beacons_{beacon_port_, {{"lo", "127.0.0.1", true, true, true}}};

    // A beacon naming a fresh id at `victim`'s endpoints, as a restarted process would.
    protocol::beacon beacon_at(const node& victim) const {
        protocol::beacon b;
        b.mesh = mesh_;
        b.id = protocol::node_id::random();
        b.name = "impostor";
        b.host = "127.0.0.1";
        b.pub_port = protocol::parse_tcp_endpoint(victim.pub_endpoint())->port;
        b.router_port = protocol::parse_tcp_endpoint(victim.router_endpoint())->port;
        return b;
    }
    // Sends `msg` to `target`'s ROUTER over a fresh connection whose routing id is `as`'s.
    void send_as(const node& target, const node_id& as, const protocol::control& msg) {
        zmq::socket_t s(ctx_, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 2000);
        s.set(zmq::sockopt::routing_id, zmq::buffer(as.bytes()));
        s.connect(target.router_endpoint());
        const auto frame = protocol::encode_control(msg);
        s.send(zmq::buffer(frame));
    }
    // Joins a and b and returns them.
    std::pair<node*, node*> pair() {
        auto& a = start("a");
        auto& b = start("b");
        EXPECT_TRUE(wait_until([&] { return joined_names(a) == names{"b"} && joined_names(b) == names{"a"}; }, 10s));
        return {&a, &b};
    }
};

TEST_F(forgery, beacon_naming_a_new_id_at_a_members_endpoints_evicts_nobody) {
    // It once dropped the member through a reference into the entry it freed (ASan: a
    // heap use-after-free), then let the impostor in.
    auto [a, b] = pair();
    for (int i = 0; i < 20; ++i) beacons_.send(protocol::encode_beacon(beacon_at(*b)));
    EXPECT_TRUE(wait_until([&] { return a->stats().endpoint_conflicts >= 20; }, 5s))
        << a->stats().endpoint_conflicts;
    EXPECT_EQ(joined_names(*a), names{"b"});
    EXPECT_EQ(events(*a).count(peer_event_kind::left, "b"), 0u);
}

TEST_F(forgery, leave_not_quoting_the_members_token_is_ignored_and_counted) {
    auto [a, b] = pair();
    // One at a time: two connections with one routing id take it from each other, and
    // what the first brought may go unread.
    send_as(*a, b->id(), protocol::leave{});        // a revision-7 LEAVE, or a stranger's
    EXPECT_TRUE(wait_until([&] { return a->stats().leaves_unverified == 1; }, 5s));
    send_as(*a, b->id(), protocol::leave{12345});   // a guess
    EXPECT_TRUE(wait_until([&] { return a->stats().leaves_unverified == 2; }, 5s))
        << a->stats().leaves_unverified;
    EXPECT_EQ(joined_names(*a), names{"b"});
    EXPECT_EQ(events(*a).count(peer_event_kind::left, "b"), 0u);
}

TEST_F(forgery, members_own_leave_quotes_its_token_and_is_believed_at_once) {
    auto [a, b] = pair();
    b->stop();
    EXPECT_TRUE(wait_until([&] { return events(*a).count(peer_event_kind::left, "b", leave_reason::leave) == 1; }, 3s));
    EXPECT_EQ(a->stats().leaves_unverified, 0u);
}

TEST_F(forgery, hello_in_a_members_name_changes_nothing_about_it) {
    auto [a, b] = pair();
    protocol::hello h{mesh_, b->id(), "mallory", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2",
                      protocol::hello_flag_observer, {"steal"}, 99, 0};
    send_as(*a, b->id(), h);
    EXPECT_TRUE(wait_until([&] { return a->stats().hellos_unverified >= 1; }, 5s));
    const auto peers = a->peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].name, "b");
    EXPECT_FALSE(peers[0].observer);
    EXPECT_TRUE(peers[0].services.empty());
    // b's own HELLO quotes a's token and is taken: a method b serves now shows at a.
    b->serve("late", [](const request&) -> response { return 1; });
    EXPECT_TRUE(wait_until([&] {
        const auto now = a->peers();
        return now.size() == 1 && now[0].services == names{"late"};
    }, 5s));
}

}  // namespace
}  // namespace zmesh::test
