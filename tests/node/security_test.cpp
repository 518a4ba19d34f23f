// SPDX-License-Identifier: MPL-2.0
// security: secured nodes with allowed keys talk; a node with a valid but not allowed key,
// a plain node, and a member posing as another get nothing in and are counted.
#include "node_fixture.hpp"
#include "support/tcp_proxy.hpp"

#include "node/key_ids.hpp"
#include "protocol/control.hpp"

#include <zmesh/keys.hpp>

#include <zmq.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <fstream>
#include <sys/stat.h>
#include <thread>

namespace zmesh::test {
namespace {

using names = std::vector<std::string>;

class security : public node_fixture {
public:   // wire_of_one_event drives the fixture too
    keypair alpha_ = generate_keypair(), beta_ = generate_keypair(), stranger_ = generate_keypair();

    options secured(const std::string& name, const keypair& own, std::vector<std::string> allowed) {
        auto o = make_options(name);
        o.secret_key = own.secret_key;
        o.allowed_keys = std::move(allowed);
        o.mesh_secret = "secret shared by every member";
        return o;
    }
    using node_fixture::make_options;
    using node_fixture::start;
    node& start_alpha() { return start(secured("alpha", alpha_, {alpha_.public_key, beta_.public_key})); }
    node& start_beta() { return start(secured("beta", beta_, {alpha_.public_key, beta_.public_key})); }

    static bool joined(const node& n, const std::string& name) {
        const auto all = joined_names(n);
        return std::find(all.begin(), all.end(), name) != all.end();
    }
};

TEST_F(security, allowed_nodes_exchange_events_and_calls_and_their_id_is_their_key) {
    auto& a = start_alpha();
    auto& b = start_beta();
    EXPECT_TRUE(id_holds_key(a.id(), *decode_key(alpha_.public_key)));
    std::atomic<int> got{0};
    b.subscribe("s.", [&](const event& e) { got += e.as<int>(); });
    a.serve("add", [](const request& r) -> response { return r.as<int>() + 1; });
    ASSERT_TRUE(wait_until([&] {
        for (const auto& p : a.peers())
            if (p.name == "beta" && p.state == peer_state::joined && !p.subscriptions.empty()) return true;
        return false;
    }, 10s));
    ASSERT_TRUE(wait_until([&] { return joined(b, "alpha"); }, 10s));
    ASSERT_TRUE(a.publish("s.x", 41));
    EXPECT_TRUE(wait_until([&] { return got == 41; }, 5s));
    auto f = b.call("add", 1, 5s);
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(f.get().as<int>(), 2);
    EXPECT_EQ(a.stats().zap_denied, 0u);
    b.stop();   // before `got` goes away
}

TEST_F(security, valid_key_not_on_the_allowlist_gets_nothing_in) {
    auto& a = start_alpha();
    auto& b = start_beta();
    // The stranger trusts alpha and beta; they do not trust it.
    auto& s = start(secured("stranger", stranger_, {alpha_.public_key, beta_.public_key, stranger_.public_key}));
    std::atomic<int> leaked{0};
    s.subscribe("", [&](const event&) { ++leaked; });
    ASSERT_TRUE(wait_until([&] { return joined(a, "beta") && joined(b, "alpha"); }, 10s));
    ASSERT_TRUE(wait_until([&] { return a.stats().zap_denied > 0 && b.stats().zap_denied > 0; }, 10s))
        << "the stranger's connections were not refused";
    EXPECT_TRUE(wait_until([&] { return a.stats().peers_not_allowed > 0; }, 5s));
    // The stranger hears why: its handshakes end in a ZAP refusal (status 400), not a timeout.
    EXPECT_TRUE(wait_until([&] { return s.stats().handshakes_failed_auth > 0; }, 5s));
    EXPECT_GE(s.stats().handshakes_failed, s.stats().handshakes_failed_auth);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(a.publish("t", i));
    EXPECT_FALSE(wait_until([&] { return leaked > 0 || joined(a, "stranger") || joined(s, "alpha"); }, 1s));
    EXPECT_EQ(joined_names(a), names{"beta"});
    s.stop();
}

// What a node logged, for the test thread to read.
class log_lines {
public:
    log_sink sink() {
        return [this](log_level, std::string_view line) {
            std::lock_guard lock(mutex_);
            text_ += std::string(line) + "\n";
        };
    }
    bool has(const std::string& part) const {
        std::lock_guard lock(mutex_);
        return text_.find(part) != std::string::npos;
    }

private:
    mutable std::mutex mutex_;
    std::string text_;
};

TEST_F(security, plain_node_and_secured_node_never_meet_and_both_say_why) {
    log_lines secured_log, plain_log;
    auto so = secured("alpha", alpha_, {alpha_.public_key, beta_.public_key});
    so.log = log_level::info;
    so.log_to = secured_log.sink();
    auto& a = start(so);
    auto po = make_options("plain");
    po.log = log_level::info;
    po.log_to = plain_log.sink();
    auto& plain = start(po);
    // The secured node drops the plain node's unsigned beacons; the plain node dials, and
    // its handshake fails (NULL against CURVE: libzmq refuses before asking ZAP).
    EXPECT_TRUE(wait_until([&] { return a.stats().beacons_unauthenticated > 0; }, 10s));
    EXPECT_TRUE(wait_until([&] { return secured_log.has("unsigned beacon claiming to be plain"); }, 5s));
    EXPECT_TRUE(wait_until([&] { return plain_log.has("the peer is secured and this node is not"); }, 10s));
    EXPECT_GT(plain.stats().handshakes_failed_protocol, 0u);
    EXPECT_FALSE(wait_until([&] { return joined(a, "plain") || joined(plain, "alpha"); }, 1s));
    for (auto& n : nodes_) n->stop();   // before the logs go away
}

// Alpha advertises 127.0.0.2, where a proxy relays to it on 127.0.0.1 and copies the
// wire: beta reaches alpha's PUB and ROUTER only through it. Returns: the bytes seen after
// beta received an event whose payload holds a marker string.
std::string wire_of_one_event(security& t, bool secure) {
    const auto pub_port = free_port(), router_port = free_port();
    tcp_proxy pub_proxy("127.0.0.2", "127.0.0.1", pub_port);
    tcp_proxy router_proxy("127.0.0.2", "127.0.0.1", router_port);
    const std::vector<std::string> both = {t.alpha_.public_key, t.beta_.public_key};
    auto ao = secure ? t.secured("alpha", t.alpha_, both) : t.make_options("alpha");
    ao.pub_port = pub_port;
    ao.router_port = router_port;
    ao.advertise = "127.0.0.2";
    auto& a = t.start(ao);
    auto& b = t.start(secure ? t.secured("beta", t.beta_, both) : t.make_options("beta"));
    std::atomic<bool> got{false};
    b.subscribe("wire.", [&](const event& e) { got = e.as<std::string>() == "TOP-SECRET-MARKER"; });
    EXPECT_TRUE(wait_until([&] {
        for (const auto& p : a.peers())
            if (p.name == "beta" && p.subscriptions == std::vector<std::string>{"wire."}) return true;
        return false;
    }, 10s));
    // Again until it arrives: SUBS and the SUB's filter reach alpha through two different
    // proxied connections, so the filter may still be on its way (PROTOCOL.md §9.8).
    EXPECT_TRUE(wait_until([&] {
        (void)a.publish("wire.x", std::string("TOP-SECRET-MARKER"));
        return got.load();
    }, 5s)) << "the event did not arrive";
    b.stop();   // before `got` goes away
    return pub_proxy.seen() + router_proxy.seen();
}

TEST_F(security, payloads_are_not_on_the_wire_in_clear_when_secured) {
    const auto wire = wire_of_one_event(*this, true);
    EXPECT_GT(wire.size(), 500u) << "nothing went through the proxy";
    EXPECT_EQ(wire.find("TOP-SECRET-MARKER"), std::string::npos) << "payload in clear";
    EXPECT_EQ(wire.find("wire.x"), std::string::npos) << "topic in clear";
    EXPECT_EQ(wire.find("beta"), std::string::npos) << "node name in clear (HELLO)";
}

TEST_F(security, the_wire_check_sees_payloads_of_a_plain_mesh) {
    // The same path in a plain mesh shows the marker: the check above can fail.
    const auto wire = wire_of_one_event(*this, false);
    EXPECT_NE(wire.find("TOP-SECRET-MARKER"), std::string::npos);
}

TEST_F(security, member_claiming_another_members_id_is_dropped) {
    auto& a = start_alpha();
    // Beta's key, alpha's id as routing id: the key is allowed, the claim is false.
    zmq::context_t ctx;
    zmq::socket_t liar(ctx, zmq::socket_type::dealer);
    liar.set(zmq::sockopt::linger, 0);
    liar.set(zmq::sockopt::curve_serverkey, alpha_.public_key);
    liar.set(zmq::sockopt::curve_publickey, beta_.public_key);
    liar.set(zmq::sockopt::curve_secretkey, beta_.secret_key);
    const auto victim = new_id_for_key(*decode_key(stranger_.public_key));
    liar.set(zmq::sockopt::routing_id, zmq::buffer(victim.bytes()));
    liar.connect(a.router_endpoint());
    const auto hello = protocol::encode_control(
        protocol::hello{mesh_, victim, "victim", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", 0, {}});
    liar.send(zmq::buffer(hello), zmq::send_flags::none);
    EXPECT_TRUE(wait_until([&] { return a.stats().frames_key_mismatch > 0; }, 5s));
    EXPECT_EQ(a.stats().zap_denied, 0u);   // the key itself was fine
    EXPECT_TRUE(a.peers().empty());
}

TEST_F(security, seeds_named_with_their_key_join_a_secured_mesh_without_beacons) {
    auto so = secured("alpha", alpha_, {alpha_.public_key, beta_.public_key, stranger_.public_key});
    so.beacon_interval = 0ms;   // no broadcast on this "network"
    so.router_port = free_port();
    auto& seed = start(so);
    auto bo = secured("beta", beta_, {alpha_.public_key, beta_.public_key});
    bo.beacon_interval = 0ms;
    bo.seeds = {alpha_.public_key + "@" + seed.router_endpoint()};
    auto& b = start(bo);
    EXPECT_TRUE(wait_until([&] { return joined(seed, "beta") && joined(b, "alpha"); }, 10s));
    EXPECT_EQ(seed.stats().frames_key_mismatch, 0u);
    // A seed named with the wrong key: the probe's CURVE handshake fails, nobody meets.
    auto wo = secured("stranger", stranger_, {alpha_.public_key, beta_.public_key, stranger_.public_key});
    wo.beacon_interval = 0ms;
    wo.seeds = {beta_.public_key + "@" + seed.router_endpoint()};
    auto& w = start(wo);
    EXPECT_FALSE(wait_until([&] { return joined(seed, "stranger") || !w.peers().empty(); }, 1500ms));
}

TEST_F(security, bad_security_options_are_refused_with_a_reason) {
    auto o = make_options("x");
    o.allowed_keys = {alpha_.public_key};
    EXPECT_THROW(node{o}, std::invalid_argument);   // allowed keys without own key
    o = secured("x", alpha_, {});
    EXPECT_THROW(node{o}, std::invalid_argument);   // nobody allowed
    o = secured("x", alpha_, {"not a key"});
    EXPECT_THROW(node{o}, std::invalid_argument);
    o = secured("x", alpha_, {beta_.public_key});
    o.secret_key = "short";
    EXPECT_THROW(node{o}, std::invalid_argument);
    o = secured("x", alpha_, {beta_.public_key});
    o.mesh_secret.clear();
    EXPECT_THROW(node{o}, std::invalid_argument);   // beacons could not be signed
    o.mesh_secret = "fifteen bytes!!";
    EXPECT_THROW(node{o}, std::invalid_argument);   // too short to be a secret
    o.mesh_secret += "?";
    EXPECT_NO_THROW(node{o});
    o = secured("x", alpha_, {beta_.public_key});
    o.seeds = {"tcp://127.0.0.1:5000"};
    EXPECT_THROW(node{o}, std::invalid_argument);   // a secured seed needs its key
    o.seeds = {"not-a-key@tcp://127.0.0.1:5000"};
    EXPECT_THROW(node{o}, std::invalid_argument);
    o.seeds = {beta_.public_key + "@tcp://127.0.0.1:5000"};
    EXPECT_NO_THROW(node{o});
    o = make_options("x");
    o.seeds = {beta_.public_key + "@tcp://127.0.0.1:5000"};
    EXPECT_THROW(node{o}, std::invalid_argument);   // a plain node cannot check a key
    o = make_options("x");
    o.mesh_secret = "sixteen bytes or more";
    EXPECT_THROW(node{o}, std::invalid_argument);   // signed beacons alone keep nobody out
}

TEST_F(security, revoked_member_is_cut_off_both_ways_at_once) {
    // Its key file removed from the allow directory: dropped as revoked, every connection
    // of its key cut, nothing more of it delivered (no drain as for a member leaving).
    const auto dir = std::filesystem::temp_directory_path() / ("zmesh-revoke-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    for (const auto* k : {&alpha_, &beta_}) std::ofstream(dir / (k == &alpha_ ? "alpha.pub" : "beta.pub")) << k->public_key << "\n";
    auto oa = secured("alpha", alpha_, {});
    oa.allow_dir = dir.string();
    auto& a = start(oa);
    auto& b = start_beta();
    std::atomic<int> at_a{0}, at_b{0};
    a.subscribe("from.b", [&](const event&) { ++at_a; });
    b.subscribe("from.a", [&](const event&) { ++at_b; });
    ASSERT_TRUE(wait_until([&] {
        a.publish("from.a", 1);
        b.publish("from.b", 1);
        return at_a > 0 && at_b > 0;
    }, 10s)) << "events never flowed both ways";
    std::filesystem::remove(dir / "beta.pub");
    ASSERT_TRUE(wait_until([&] { return events(a).count(peer_event_kind::left, "beta", leave_reason::revoked) == 1; }, 3s));
    EXPECT_TRUE(wait_until([&] { return a.stats().connections_cut >= 2; }, 2s))   // its link and its SUB
        << a.stats().connections_cut;
    const int a_had = at_a, b_had = at_b;
    const auto until = std::chrono::steady_clock::now() + 500ms;
    while (std::chrono::steady_clock::now() < until) {   // both keep publishing
        a.publish("from.a", 1);
        b.publish("from.b", 1);
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(at_a, a_had) << "a still delivers events of a revoked key";
    EXPECT_EQ(at_b, b_had) << "a revoked key still gets a's events";
    b.stop();
    a.stop();
    std::filesystem::remove_all(dir);
}

TEST_F(security, replicas_started_from_one_key_are_distinct_members) {
    // Two processes mounting one credential: one service, two instances. Both join, neither
    // takes the other's place, and each is called by its own id.
    auto& a = start_alpha();
    auto& r1 = start(secured("replica-1", beta_, {alpha_.public_key, beta_.public_key}));
    auto& r2 = start(secured("replica-2", beta_, {alpha_.public_key, beta_.public_key}));
    EXPECT_NE(r1.id(), r2.id());
    r1.serve("who", [](const request&) -> response { return 1; });
    r2.serve("who", [](const request&) -> response { return 2; });
    ASSERT_TRUE(wait_until([&] { return joined_names(a) == names{"replica-1", "replica-2"}; }, 10s));
    for (auto* r : {&r1, &r2}) {
        auto f = a.call_peer(r->id(), "who", 0, 5s);
        ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
        EXPECT_EQ(f.get().as<int>(), r == &r1 ? 1 : 2);
    }
    EXPECT_EQ(events(a).count(peer_event_kind::evasive, "replica-1") + events(a).count(peer_event_kind::evasive, "replica-2"), 0u);
    EXPECT_EQ(events(a).count(peer_event_kind::left, "replica-1") + events(a).count(peer_event_kind::left, "replica-2"), 0u);
}

TEST(keys, an_id_holds_its_key_and_each_process_of_a_key_has_its_own_id) {
    const auto key = *decode_key(generate_keypair().public_key);
    const auto other = *decode_key(generate_keypair().public_key);
    const auto one = new_id_for_key(key), two = new_id_for_key(key);
    EXPECT_NE(one, two);
    EXPECT_TRUE(id_holds_key(one, key));
    EXPECT_TRUE(id_holds_key(two, key));
    EXPECT_FALSE(id_holds_key(one, other));
    EXPECT_EQ(key_part_of(one), key_part_of(key));
    auto bytes = one.bytes();
    bytes[key_part_size - 1] ^= 1;   // one bit of the key's part
    EXPECT_FALSE(id_holds_key(protocol::node_id(bytes), key));
}

TEST(keys, seed_splits_at_the_last_at_sign_because_z85_keys_may_hold_one) {
    const std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";   // Z85, with '@'
    ASSERT_TRUE(decode_key(key));
    const auto s = split_seed(key + "@tcp://10.0.0.5:5000");
    EXPECT_EQ(s.key, key);
    EXPECT_EQ(s.endpoint, "tcp://10.0.0.5:5000");
    EXPECT_EQ(split_seed("tcp://h:1").key, "");
    EXPECT_EQ(split_seed("tcp://h:1").endpoint, "tcp://h:1");
}

TEST(keys, files_round_trip_and_an_open_secret_is_refused) {
    const auto dir = std::filesystem::temp_directory_path() / ("zmesh-keys-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto pair = generate_keypair();
    const auto base = (dir / "alpha").string();
    write_keypair(pair, base);
    EXPECT_EQ(read_secret_key(base + ".key"), pair.secret_key);
    EXPECT_EQ(public_key_of(pair.secret_key), pair.public_key);
    std::ifstream pub(base + ".pub");
    std::string text;
    pub >> text;
    EXPECT_EQ(text, pair.public_key);
    EXPECT_THROW(write_keypair(pair, base), std::runtime_error);   // never overwrites
    ::chmod((base + ".key").c_str(), 0644);
    try {
        (void)read_secret_key(base + ".key");
        ADD_FAILURE() << "a world-readable secret key was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)read_secret_key(base + ".missing"), std::runtime_error);
    std::filesystem::remove_all(dir);
}

TEST(keys, a_public_key_file_given_as_the_secret_key_is_named_for_what_it_is) {
    const auto dir = std::filesystem::temp_directory_path() / ("zmesh-keys-pub-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto base = (dir / "alpha").string();
    write_keypair(generate_keypair(), base);
    try {
        (void)read_secret_key(base + ".pub");
        ADD_FAILURE() << "a public key file was read as a secret key";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("this is a public key, not a secret key"), std::string::npos) << what;
        EXPECT_NE(what.find("alpha.key"), std::string::npos) << what;
        EXPECT_EQ(what.find("readable by others"), std::string::npos) << what;
    }
    std::filesystem::remove_all(dir);
}

TEST_F(security, a_public_key_given_as_the_secret_key_is_named_for_what_it_is_at_start) {
    // Its own public key, as a user who mixed up the two files would pass it.
    auto o = secured("x", alpha_, {alpha_.public_key, beta_.public_key});
    o.secret_key = alpha_.public_key;
    node mistaken(o);
    try {
        mistaken.start();
        ADD_FAILURE() << "a public key was taken for a secret key";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("this is a public key, not a secret key"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(mistaken.running());
}

}  // namespace
}  // namespace zmesh::test
