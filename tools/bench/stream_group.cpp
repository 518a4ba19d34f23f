// SPDX-License-Identifier: MPL-2.0
// stream_group: zmesh's side of durable's end-to-end shapes, three nodes in this process over
// TCP loopback — a publisher with a data directory storing records (publish_stored, in
// durability::os), and two members of one consumer name consuming and acking them.
#include "stream_shapes.hpp"

#include <msgpack.hpp>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace zmesh::bench {
namespace {

// What one member's handler saw: the sequences it acked, when it began and ended.
struct member {
    std::mutex mutex;
    std::vector<std::uint64_t> seqs;
    std::int64_t first_ns = 0, last_ack_ns = 0;
    std::uint64_t redelivered = 0;
};

// What the members' handlers write; it outlives the nodes that run them.
struct group {
    member a, b;
    std::mutex mutex;
    std::condition_variable done;
    std::uint64_t acked = 0;   // by both members; the main thread waits for the last
};

double per_second(std::uint64_t count, std::int64_t ns) {
    return static_cast<double>(count) * 1e9 / static_cast<double>(std::max<std::int64_t>(ns, 1));
}

// Returns: a msgpack bin of `size` bytes, what each publish stores.
std::vector<std::uint8_t> record(std::size_t size) {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> pack(buffer);
    const std::vector<char> bytes(size, 0x5a);
    pack.pack_bin(static_cast<std::uint32_t>(size));
    pack.pack_bin_body(bytes.data(), static_cast<std::uint32_t>(size));
    return {reinterpret_cast<const std::uint8_t*>(buffer.data()),
            reinterpret_cast<const std::uint8_t*>(buffer.data()) + buffer.size()};
}

template <class Predicate>
void wait_for(Predicate ready, clock::time_point deadline, const std::string& what) {
    while (!ready()) {
        if (clock::now() > deadline) throw std::runtime_error("zmesh: " + what + " not in time");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

std::size_t joined(const node& n) {
    std::size_t count = 0;
    for (const auto& p : n.peers()) count += p.state == peer_state::joined;
    return count;
}

// Returns: records/s, each publish waiting for its "stored".
double publish_sync(node& pub, const shape_work& w, std::span<const std::uint8_t> rec) {
    pub.declare_stream({"sync", "sync."});
    const auto t0 = now_ns();
    for (std::uint64_t i = 0; i < w.sync_count; ++i) pub.publish_stored_packed("sync.t", rec).get();
    return per_second(w.sync_count, now_ns() - t0);
}

// Returns: records/s with `window` publishes awaiting their "stored", to the last stored.
double publish_async(node& pub, const shape_work& w, std::span<const std::uint8_t> rec) {
    pub.declare_stream({"work", "work."});
    std::deque<std::future<void>> waiting;
    const auto t0 = now_ns();
    for (std::uint64_t i = 0; i < w.count; ++i) {
        if (waiting.size() == w.window) {
            waiting.front().get();
            waiting.pop_front();
        }
        waiting.push_back(pub.publish_stored_packed("work.t", rec));
    }
    for (auto& f : waiting) f.get();
    const auto elapsed = now_ns() - t0;
    for (const auto& info : pub.streams())
        if (info.config.name == "work" && (info.messages != w.count || info.last_seq != w.count))
            throw std::runtime_error("zmesh: stream work holds " + std::to_string(info.messages) + " of " +
                                     std::to_string(w.count));
    return per_second(w.count, elapsed);
}

// Returns: deliveries acked/s by the group, from the first delivery to the last ack.
double consume_group(const settings& s, node& pub, node& a, node& b, const shape_work& w, group& g,
                     nlohmann::json& facts) {
    member &got_a = g.a, &got_b = g.b;
    const auto handler = [&](member& m) {
        return [&m, &g, count = w.count](const stream_message& msg) {
            {
                std::lock_guard lock(m.mutex);
                if (m.first_ns == 0) m.first_ns = now_ns();
                m.seqs.push_back(msg.seq());
                if (msg.redelivered()) ++m.redelivered;
                msg.ack();
                m.last_ack_ns = now_ns();
            }
            std::lock_guard lock(g.mutex);
            if (++g.acked == count) g.done.notify_all();
        };
    };
    consume_options o;
    o.start = stream_start::first;
    o.max_in_flight = static_cast<std::uint32_t>(w.batch);
    a.consume("work", "group", handler(got_a), o, where(s));
    b.consume("work", "group", handler(got_b), o, where(s));
    {
        std::unique_lock lock(g.mutex);
        if (!g.done.wait_until(lock, s.deadline(), [&] { return g.acked >= w.count; }))
            throw std::runtime_error("zmesh: " + std::to_string(g.acked) + " of " + std::to_string(w.count) +
                                     " records acked in time");
    }
    std::scoped_lock lock(got_a.mutex, got_b.mutex);

    // Every sequence 1..count acked once, each at its first attempt, and every ack sent.
    std::vector<std::uint8_t> seen(w.count + 1, 0);
    for (const auto* m : {&got_a, &got_b})
        for (const auto seq : m->seqs)
            if (seq < 1 || seq > w.count || seen[seq]++)
                throw std::runtime_error("zmesh: sequence " + std::to_string(seq) + " delivered twice or unknown");
    if (got_a.seqs.size() + got_b.seqs.size() != w.count || got_a.redelivered + got_b.redelivered != 0)
        throw std::runtime_error("zmesh: not every record acked exactly once");
    wait_for([&] { return a.stats().stream_settles_sent + b.stats().stream_settles_sent == w.count; }, s.deadline(),
             "every ack sent");
    if (const auto stale = pub.stats().stream_stale_settles; stale != 0)
        throw std::runtime_error("zmesh: the publisher refused " + std::to_string(stale) + " acks");
    facts["acked_by_member"] = {got_a.seqs.size(), got_b.seqs.size()};
    // A member that got nothing has no first delivery.
    const auto first = got_a.seqs.empty()   ? got_b.first_ns
                       : got_b.seqs.empty() ? got_a.first_ns
                                            : std::min(got_a.first_ns, got_b.first_ns);
    return per_second(w.count, std::max(got_a.last_ack_ns, got_b.last_ack_ns) - first);
}

}  // namespace

shape_figures run_zmesh_shapes(const settings& s, const shape_work& w) {
    const temp_dir dir("zmesh-bench-group-");
    group g;
    auto po = node_options(s, "bench-publisher");
    po.data_dir = dir.path() + "/publisher";
    po.stream_durability = durability::os;
    node pub(po), a(node_options(s, "bench-member-a")), b(node_options(s, "bench-member-b"));
    for (auto* n : {&pub, &a, &b}) n->start();
    wait_for([&] { return joined(pub) >= 2 && joined(a) >= 1 && joined(b) >= 1; }, s.deadline(), "the three nodes joined");

    const auto rec = record(w.size);
    shape_figures f;
    f.publish_sync = publish_sync(pub, w, rec);
    f.publish_async = publish_async(pub, w, rec);
    f.group_acked = consume_group(s, pub, a, b, w, g, f.facts);
    // Before what the handlers use goes away.
    for (auto* n : {&a, &b, &pub}) n->stop();
    return f;
}

}  // namespace zmesh::bench
