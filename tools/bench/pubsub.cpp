// SPDX-License-Identifier: MPL-2.0
// pubsub: one publisher process, K subscriber processes; events/s from the first send to the
// last receive, every event required (HWMs raised to the count), and no subscriber may take
// the flooding publisher for dead (evasive or left). The baseline is the same shape in raw
// libzmq: PUB -> SUB, [topic][payload], the same HWMs.
#include "bench.hpp"
#include "secure.hpp"

#include <zmesh/node.hpp>

#include <zmq.hpp>

#include <atomic>
#include <climits>
#include <optional>
#include <thread>

namespace zmesh::bench {
namespace {

const std::string topic = "bench.t";
const std::string prefix = "bench.";

// A peer of a secured run is given --key-dir and its key's --name (see measure()).
bool secured(const settings& s) { return s.vm.count("key-dir") > 0; }
std::string key_dir_of(const settings& s) { return s.get<std::string>("key-dir"); }

// Every event of the run fits in every queue on its way: a lost event is a failure.
int hwm_for(std::uint64_t count) {
    return static_cast<int>(std::min<std::uint64_t>(count + 1000, INT_MAX));
}

struct receive_log {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::int64_t> first_ns{0}, last_ns{0};

    void add() {
        const auto t = now_ns();
        if (received.load(std::memory_order_relaxed) == 0) first_ns.store(t, std::memory_order_relaxed);
        last_ns.store(t, std::memory_order_relaxed);
        received.fetch_add(1, std::memory_order_release);
    }
    // Waits until `count` arrived, or nothing new came for a few seconds, or `deadline`.
    void wait(std::uint64_t count, clock::time_point deadline) const {
        auto seen = received.load(std::memory_order_acquire);
        auto progress_at = clock::now();
        while (seen < count && clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            const auto now_seen = received.load(std::memory_order_acquire);
            if (now_seen != seen) {
                seen = now_seen;
                progress_at = clock::now();
            } else if (seen > 0 && clock::now() - progress_at > std::chrono::seconds(3)) {
                break;   // the rest is lost
            }
        }
    }
    nlohmann::json to_json() const {
        return {{"received", received.load()}, {"first_ns", first_ns.load()}, {"last_ns", last_ns.load()}};
    }
};

int zmesh_pub(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    const auto subscribers = s.get<std::size_t>("subscribers");
    auto o = node_options(s, "bench-pub");
    o.send_hwm = hwm_for(count);
    o.publish_queue = std::max<std::size_t>(o.publish_queue, count);
    o.max_event_size = s.get<std::size_t>("size") + 16;
    o.publishes = {topic};   // with --gossip past 32 members, subscribers link only this node
    if (secured(s)) secure_node(o, key_dir_of(s), "pub");
    node n(o);
    n.start();
    const auto deadline = s.deadline();
    auto ready = [&] {
        std::size_t k = 0;
        for (const auto& p : n.peers())
            if (p.state == peer_state::joined && p.subscriptions_known && !p.subscriptions.empty()) ++k;
        return k >= subscribers;
    };
    while (!ready()) {
        if (clock::now() > deadline) throw std::runtime_error("subscribers never joined");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const std::vector<std::uint8_t> payload(s.get<std::size_t>("size"), 0x5a);
    std::uint64_t retries = 0;
    const auto first = now_ns();
    for (std::uint64_t i = 0; i < count; ++i)
        while (!n.publish(topic, std::span<const std::uint8_t>(payload))) {
            ++retries;   // this thread's publish queue is full: the reactor is behind
            std::this_thread::yield();
        }
    const auto last = now_ns();
    say("result " + nlohmann::json{{"first_ns", first}, {"last_ns", last}, {"retries", retries}}.dump());
    wait_for_stop();
    return 0;
}

int zmesh_sub(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    auto o = node_options(s, "bench-sub");
    o.receive_hwm = hwm_for(count);
    o.receive_queue = std::max<std::size_t>(o.receive_queue, count);
    o.max_event_size = s.get<std::size_t>("size") + 16;
    if (secured(s)) secure_node(o, key_dir_of(s), s.get<std::string>("name"));
    // Before the node: its callbacks use these until it is gone.
    receive_log log;
    // The flooding publisher seen evasive or left; the other subscribers seen evasive, or left
    // (none leaves before the end: each left is a false death).
    std::atomic<std::uint64_t> suspected{0}, others_evasive{0}, others_left{0};
    node n(o);
    n.on_peer_event([&](const peer_event& e) {
        if (e.peer.observer || (e.kind != peer_event_kind::evasive && e.kind != peer_event_kind::left)) return;
        if (e.peer.name == "bench-pub") ++suspected;
        else ++(e.kind == peer_event_kind::left ? others_left : others_evasive);
    });
    n.subscribe(prefix, [&log](const event&) { log.add(); }, where(s));
    n.start();
    log.wait(count, s.deadline());
    auto result = log.to_json();
    result["gaps"] = n.stats().events_gaps;
    result["suspected"] = suspected.load();
    result["others_evasive"] = others_evasive.load();
    result["others_left"] = others_left.load();
    say("result " + result.dump());
    wait_for_stop();
    n.stop();
    return 0;
}

int raw_pub(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    const auto subscribers = s.get<std::size_t>("subscribers");
    zmq::context_t ctx;
    // XPUB only so the baseline, like zmesh, starts once every subscription has arrived.
    zmq::socket_t pub(ctx, zmq::socket_type::xpub);
    pub.set(zmq::sockopt::sndhwm, hwm_for(count));
    pub.set(zmq::sockopt::xpub_verbose, 1);
    pub.set(zmq::sockopt::linger, 0);
    if (secured(s)) secure_raw_server(pub, key_dir_of(s), "pub");
    pub.bind("tcp://127.0.0.1:*");
    say("ready " + pub.get(zmq::sockopt::last_endpoint));
    const auto deadline = s.deadline();
    for (std::size_t k = 0; k < subscribers;) {
        zmq::pollitem_t item{pub.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(100));
        zmq::message_t m;
        if ((item.revents & ZMQ_POLLIN) && pub.recv(m, zmq::recv_flags::dontwait) && m.size() > 0 &&
            m.data<char>()[0] == 1)
            ++k;
        if (clock::now() > deadline) throw std::runtime_error("subscribers never subscribed");
    }
    const std::vector<std::uint8_t> payload(s.get<std::size_t>("size"), 0x5a);
    const auto first = now_ns();
    for (std::uint64_t i = 0; i < count; ++i) {
        pub.send(zmq::buffer(topic), zmq::send_flags::sndmore);
        pub.send(zmq::buffer(payload), zmq::send_flags::none);
    }
    const auto last = now_ns();
    say("result " + nlohmann::json{{"first_ns", first}, {"last_ns", last}, {"retries", 0}}.dump());
    wait_for_stop();
    return 0;
}

int raw_sub(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    zmq::context_t ctx;
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::rcvhwm, hwm_for(count));
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::subscribe, prefix);
    if (secured(s)) secure_raw_client(sub, key_dir_of(s), s.get<std::string>("name"), "pub");
    sub.connect(s.get<std::string>("endpoint"));
    receive_log log;
    const auto deadline = s.deadline();
    auto progress_at = clock::now();
    zmq::message_t part;
    while (log.received < count && clock::now() < deadline) {
        if (!sub.recv(part, zmq::recv_flags::dontwait)) {
            zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, std::chrono::milliseconds(100));
            if (log.received > 0 && clock::now() - progress_at > std::chrono::seconds(3)) break;
            continue;
        }
        while (part.more()) (void)sub.recv(part);
        log.add();
        progress_at = clock::now();
    }
    auto result = log.to_json();
    result["gaps"] = 0;
    say("result " + result.dump());
    wait_for_stop();
    return 0;
}

struct run_figures {
    double events_per_s = 0;
    double deliveries_per_s = 0;
    std::uint64_t lost = 0;
    std::uint64_t retries = 0;
    std::uint64_t suspected = 0;   // subscribers that took the busy publisher for dead
    std::uint64_t others_evasive = 0, others_left = 0;   // subscribers seen so by each other
};

// Reads the publisher's and each subscriber's result and stops them all.
run_figures collect(std::vector<std::unique_ptr<child>>& all, std::uint64_t count,
                    const settings& s) {
    const auto deadline = s.deadline();
    const auto subscribers = all.size() - 1;
    const auto pub = expect_result(*all.front(), deadline, "publisher");
    std::int64_t last = 0;
    std::uint64_t received = 0;
    run_figures f;
    for (std::size_t i = 1; i < all.size(); ++i) {
        const auto r = expect_result(*all[i], deadline, "subscriber");
        received += r["received"].get<std::uint64_t>();
        f.suspected += r.value("suspected", std::uint64_t{0});
        f.others_evasive += r.value("others_evasive", std::uint64_t{0});
        f.others_left += r.value("others_left", std::uint64_t{0});
        last = std::max(last, r["last_ns"].get<std::int64_t>());
    }
    stop_all(all, deadline);
    const double seconds = std::max<double>(1e-9, static_cast<double>(last - pub["first_ns"].get<std::int64_t>()) / 1e9);
    f.events_per_s = static_cast<double>(count) / seconds;
    f.deliveries_per_s = static_cast<double>(received) / seconds;
    f.lost = count * subscribers - received;
    f.retries = pub["retries"].get<std::uint64_t>();
    return f;
}

// Runs one publisher and the subscribers of `side` ("zmesh" or "raw") as processes, encrypted
// with the keys in `keys` when given. Returns: their figures.
run_figures measure(const settings& s, const std::string& side, const std::vector<std::string>& shape,
                    const key_dir* keys) {
    const auto count = s.get<std::uint64_t>("count");
    const auto key_args = [keys](const std::string& name) {
        return keys ? std::vector<std::string>{"--key-dir", keys->path(), "--name", name}
                    : std::vector<std::string>{};
    };
    std::vector<std::unique_ptr<child>> all;
    all.push_back(std::make_unique<child>(args_with(args_with(s.peer_args(side + "-pub"), shape), key_args("pub"))));
    std::vector<std::string> endpoint;   // raw subscribers are told where the PUB is
    if (side == "raw") endpoint = {"--endpoint", all.front()->expect("ready", s.deadline(), "raw publisher")};
    for (std::size_t k = 0; k < s.get<std::size_t>("subscribers"); ++k) {
        const auto args = args_with(args_with(s.peer_args(side + "-sub"), shape), endpoint);
        all.push_back(std::make_unique<child>(args_with(args, key_args("sub-" + std::to_string(k)))));
    }
    return collect(all, count, s);
}

std::string rate_text(const run_figures& f) {
    return std::to_string(static_cast<std::uint64_t>(f.events_per_s));
}

}  // namespace

roles pubsub_roles() {
    return {{"zmesh-pub", zmesh_pub}, {"zmesh-sub", zmesh_sub}, {"raw-pub", raw_pub}, {"raw-sub", raw_sub}};
}

int run_pubsub(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    const auto size = s.get<std::size_t>("size");
    const auto subscribers = s.get<std::size_t>("subscribers");
    const bool secure = s.get<bool>("secure");
    const std::vector<std::string> shape = {"--count", std::to_string(count), "--size",
                                            std::to_string(size), "--subscribers",
                                            std::to_string(subscribers), "--handler",
                                            s.get<std::string>("handler")};
    std::optional<key_dir> keys;
    if (secure) {
        std::vector<std::string> names = {"pub"};
        for (std::size_t k = 0; k < subscribers; ++k) names.push_back("sub-" + std::to_string(k));
        keys.emplace(names);
    }
    report r("pubsub", {{"size", size}, {"count", count}, {"subscribers", subscribers}, {"secure", secure},
                        {"handler", s.get<std::string>("handler")}});
    auto& rate = r.at("events_per_s", "events/s");
    auto& deliveries = r.at("deliveries_per_s", "deliveries/s (all subs)");
    std::uint64_t lost_zmesh = 0, lost_raw = 0, retries = 0, suspected = 0, others_evasive = 0, others_left = 0;
    for (int run = 1; run <= s.runs; ++run) {
        const auto z = measure(s, "zmesh", shape, nullptr);
        const auto raw = measure(s, "raw", shape, nullptr);
        rate.zmesh.push_back(z.events_per_s);
        rate.raw.push_back(raw.events_per_s);
        deliveries.zmesh.push_back(z.deliveries_per_s);
        deliveries.raw.push_back(raw.deliveries_per_s);
        lost_zmesh += z.lost;
        lost_raw += raw.lost;
        retries += z.retries;
        suspected += z.suspected;
        others_evasive += z.others_evasive;
        others_left += z.others_left;
        std::string line = "pubsub run " + std::to_string(run) + "/" + std::to_string(s.runs) +
                           ": zmesh " + rate_text(z) + " events/s, raw " + rate_text(raw) + " msg/s";
        if (keys) {
            // Encrypted: zmesh secured (CURVE, ZAP, signed beacons) against raw CURVE PUB/SUB.
            const auto zs = measure(s, "zmesh", shape, &*keys);
            const auto rs = measure(s, "raw", shape, &*keys);
            auto& secured_rate = r.at("secure_events_per_s", "events/s, encrypted");
            secured_rate.zmesh.push_back(zs.events_per_s);
            secured_rate.raw.push_back(rs.events_per_s);
            lost_zmesh += zs.lost;
            lost_raw += rs.lost;
            suspected += zs.suspected;
            line += "; encrypted: zmesh " + rate_text(zs) + ", raw " + rate_text(rs);
        }
        progress(line);
    }
    r.extra("zmesh") = {{"lost", lost_zmesh}, {"publish_retries", retries},
                        {"publisher_suspected", suspected}};
    if (subscribers > 1) {
        r.extra("zmesh")["subscribers_evasive"] = others_evasive;
        r.extra("zmesh")["subscribers_left"] = others_left;
    }
    r.extra("raw") = {{"lost", lost_raw}};
    if (keys) {
        // What encryption costs each side: encrypted rate over plain rate, medians.
        const auto& enc = r.at("secure_events_per_s", "events/s, encrypted");
        const auto share = [](double a, double b) { return b != 0 ? a / b : 0.0; };
        r.extra("zmesh")["encrypted_vs_plain"] = share(median(enc.zmesh), median(rate.zmesh));
        r.extra("raw")["encrypted_vs_plain"] = share(median(enc.raw), median(rate.raw));
    }
    r.print(s.json);
    if (lost_zmesh + lost_raw == 0) return 0;
    progress("error: events were lost (zmesh " + std::to_string(lost_zmesh) + ", raw " +
             std::to_string(lost_raw) + "): the figures are not comparable");
    return 3;
}

}  // namespace zmesh::bench
