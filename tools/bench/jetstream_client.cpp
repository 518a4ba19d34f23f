// SPDX-License-Identifier: MPL-2.0
// zmesh-bench-jetstream: the JetStream side of `zmesh-bench durable`, over the NATS C client.
// A program of its own because Debian ships libnats shared only and zmesh-bench is linked
// static; zmesh-bench starts nats-server, runs this against it and reads one line:
//   zmesh-bench-jetstream URL COUNT SYNC_COUNT SIZE WINDOW BATCH TIMEOUT_S
//   -> "result {json}" on stdout; exit 1 with the reason on stderr when a shape failed.
// The shapes are zmesh's (stream_shapes.hpp): sync publishes, async publishes with WINDOW
// acks outstanding, and the async-published records consumed by one durable pull consumer
// (explicit ack) that two subscribers on their own connections share, each fetching BATCH.
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

struct work {
    std::string url;
    std::uint64_t count = 0, sync_count = 0;
    std::size_t size = 0, window = 0, batch = 0;
    std::int64_t timeout_ms = 0;
};

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}

double per_second(std::uint64_t count, std::int64_t ns) {
    return static_cast<double>(count) * 1e9 / static_cast<double>(std::max<std::int64_t>(ns, 1));
}

void check(natsStatus s, const std::string& what, jsErrCode code = static_cast<jsErrCode>(0)) {
    if (s == NATS_OK) return;
    std::string text = what + ": " + natsStatus_GetText(s);
    if (const char* last = nats_GetLastError(nullptr); last && *last) text += std::string(" (") + last + ")";
    if (code != 0) text += " [JetStream error " + std::to_string(code) + "]";
    throw std::runtime_error(text);
}

struct destroy_connection {
    void operator()(natsConnection* c) const noexcept { natsConnection_Destroy(c); }
};
struct destroy_context {
    void operator()(jsCtx* js) const noexcept { jsCtx_Destroy(js); }
};
struct destroy_subscription {
    void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }
};
using connection_ptr = std::unique_ptr<natsConnection, destroy_connection>;
using context_ptr = std::unique_ptr<jsCtx, destroy_context>;
using subscription_ptr = std::unique_ptr<natsSubscription, destroy_subscription>;

// One client: a connection and its JetStream context, async publishes bounded by `window`.
struct client {
    connection_ptr nc;
    context_ptr js;
    std::atomic<std::uint64_t> publish_errors{0};

    client(const work& w, std::size_t window) {
        natsOptions* opts = nullptr;
        check(natsOptions_Create(&opts), "options");
        const std::unique_ptr<natsOptions, void (*)(natsOptions*)> owned(opts, natsOptions_Destroy);
        check(natsOptions_SetURL(opts, w.url.c_str()), "options");
        check(natsOptions_SetTimeout(opts, w.timeout_ms), "options");
        natsConnection* c = nullptr;
        check(natsConnection_Connect(&c, opts), "connect to " + w.url);
        nc.reset(c);
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = w.timeout_ms;
        jo.PublishAsync.MaxPending = static_cast<int64_t>(window);
        jo.PublishAsync.StallWait = w.timeout_ms;   // a full window waits for acks, not fails
        jo.PublishAsync.ErrHandler = [](jsCtx*, jsPubAckErr*, void* self) {
            static_cast<client*>(self)->publish_errors.fetch_add(1);
        };
        jo.PublishAsync.ErrHandlerClosure = this;
        jsCtx* js_raw = nullptr;
        check(natsConnection_JetStream(&js_raw, c, &jo), "JetStream context");
        js.reset(js_raw);
    }
};

// A file-store stream taking `subject`, stored as JetStream's defaults say (no fsync per write).
void add_stream(client& c, const char* name, const char* subject) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    const char* subjects[] = {subject};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    jsStreamInfo* si = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    check(js_AddStream(&si, c.js.get(), &cfg, nullptr, &code), std::string("add stream ") + name, code);
    jsStreamInfo_Destroy(si);
}

std::uint64_t stored_messages(client& c, const char* stream) {
    jsStreamInfo* si = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    check(js_GetStreamInfo(&si, c.js.get(), stream, nullptr, &code), "stream info", code);
    const auto n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

// Returns: publishes/s, each waiting for its PubAck.
double publish_sync(client& c, const work& w, const std::vector<std::uint8_t>& payload) {
    add_stream(c, "sync", "sync.t");
    const auto t0 = now_ns();
    for (std::uint64_t i = 1; i <= w.sync_count; ++i) {
        jsPubAck* ack = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        check(js_Publish(&ack, c.js.get(), "sync.t", payload.data(), static_cast<int>(payload.size()), nullptr, &code),
              "publish", code);
        const bool in_order = ack->Sequence == i;
        jsPubAck_Destroy(ack);
        if (!in_order) throw std::runtime_error("sync publish " + std::to_string(i) + " stored out of sequence");
    }
    return per_second(w.sync_count, now_ns() - t0);
}

// Returns: publishes/s with `window` PubAcks outstanding, until the last is acknowledged.
double publish_async(client& c, const work& w, const std::vector<std::uint8_t>& payload) {
    add_stream(c, "work", "work.t");
    const auto t0 = now_ns();
    for (std::uint64_t i = 0; i < w.count; ++i)
        check(js_PublishAsync(c.js.get(), "work.t", payload.data(), static_cast<int>(payload.size()), nullptr),
              "async publish");
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = w.timeout_ms;
    check(js_PublishAsyncComplete(c.js.get(), &po), "async publishes acknowledged");
    const auto elapsed = now_ns() - t0;
    if (c.publish_errors != 0) throw std::runtime_error(std::to_string(c.publish_errors.load()) + " async publishes failed");
    if (const auto n = stored_messages(c, "work"); n != w.count)
        throw std::runtime_error("stream work holds " + std::to_string(n) + " of " + std::to_string(w.count));
    return per_second(w.count, elapsed);
}

// What one pull subscriber did: the stream sequences it acked, when it began and ended.
struct member {
    std::vector<std::uint64_t> seqs;
    std::int64_t first_ns = 0, last_ack_ns = 0;
    std::uint64_t redelivered = 0;
    std::string error;
};

void pull(const work& w, member& m, std::atomic<std::uint64_t>& acked, steady::time_point deadline) {
    try {
        client c(w, w.window);
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = "work";
        so.Consumer = "group";   // bound to the durable the main thread made
        natsSubscription* raw = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        check(js_PullSubscribe(&raw, c.js.get(), "work.t", "group", nullptr, &so, &code), "pull subscribe", code);
        const subscription_ptr sub(raw);
        while (acked.load() < w.count) {
            if (steady::now() > deadline) throw std::runtime_error("not every record acked in time");
            natsMsgList list{};
            const auto s = natsSubscription_Fetch(&list, sub.get(), static_cast<int>(w.batch), 100, &code);
            if (s == NATS_TIMEOUT) continue;   // the other subscriber holds the rest
            check(s, "fetch", code);
            for (int i = 0; i < list.Count; ++i) {
                natsMsg* msg = list.Msgs[i];
                if (m.first_ns == 0) m.first_ns = now_ns();
                jsMsgMetaData* meta = nullptr;
                check(natsMsg_GetMetaData(&meta, msg), "message metadata");
                m.seqs.push_back(meta->Sequence.Stream);
                if (meta->NumDelivered > 1) ++m.redelivered;
                jsMsgMetaData_Destroy(meta);
                check(natsMsg_Ack(msg, nullptr), "ack");
            }
            const auto got = static_cast<std::uint64_t>(list.Count);
            if (got > 0) m.last_ack_ns = now_ns();
            natsMsgList_Destroy(&list);
            acked.fetch_add(got);
        }
        // The acks are on their way, not only queued in the client: a round trip after them.
        check(natsConnection_FlushTimeout(c.nc.get(), w.timeout_ms), "flush acks");
    } catch (const std::exception& e) {
        m.error = e.what();
        acked.store(w.count);   // the other one stops too
    }
}

// Returns: deliveries acked/s by the group, from the first delivery to the last ack.
double consume_group(client& c, const work& w, nlohmann::json& facts) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "group";
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverAll;
    cc.MaxAckPending = static_cast<int64_t>(2 * w.batch);   // zmesh: max_in_flight per member
    jsConsumerInfo* ci = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    check(js_AddConsumer(&ci, c.js.get(), "work", &cc, nullptr, &code), "add consumer", code);
    jsConsumerInfo_Destroy(ci);

    const auto deadline = steady::now() + std::chrono::milliseconds(w.timeout_ms);
    std::atomic<std::uint64_t> acked{0};
    member a, b;
    std::thread ta(pull, std::cref(w), std::ref(a), std::ref(acked), deadline);
    std::thread tb(pull, std::cref(w), std::ref(b), std::ref(acked), deadline);
    ta.join();
    tb.join();
    for (const auto* m : {&a, &b})
        if (!m->error.empty()) throw std::runtime_error("pull subscriber: " + m->error);

    // Every sequence 1..count acked once, and the server agrees.
    std::vector<std::uint8_t> seen(w.count + 1, 0);
    for (const auto* m : {&a, &b})
        for (const auto seq : m->seqs)
            if (seq < 1 || seq > w.count || seen[seq]++)
                throw std::runtime_error("sequence " + std::to_string(seq) + " delivered twice or unknown");
    if (a.seqs.size() + b.seqs.size() != w.count || a.redelivered + b.redelivered != 0)
        throw std::runtime_error("not every record acked exactly once");
    check(js_GetConsumerInfo(&ci, c.js.get(), "work", "group", nullptr, &code), "consumer info", code);
    const auto floor = ci->AckFloor.Stream;
    const auto pending = ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    if (floor != w.count || pending != 0)
        throw std::runtime_error("the server has acks up to " + std::to_string(floor) + ", " +
                                 std::to_string(pending) + " pending");
    facts["acked_by_member"] = {a.seqs.size(), b.seqs.size()};
    // A member that got nothing has no first delivery.
    const auto first = a.seqs.empty() ? b.first_ns : b.seqs.empty() ? a.first_ns : std::min(a.first_ns, b.first_ns);
    return per_second(w.count, std::max(a.last_ack_ns, b.last_ack_ns) - first);
}

work parse(int argc, char** argv) {
    if (argc != 8) throw std::invalid_argument("usage: zmesh-bench-jetstream URL COUNT SYNC_COUNT SIZE WINDOW BATCH TIMEOUT_S");
    work w;
    w.url = argv[1];
    w.count = std::stoull(argv[2]);
    w.sync_count = std::stoull(argv[3]);
    w.size = std::stoull(argv[4]);
    w.window = std::stoull(argv[5]);
    w.batch = std::stoull(argv[6]);
    w.timeout_ms = std::stoll(argv[7]) * 1000;
    if (w.count < 1 || w.sync_count < 1 || w.window < 1 || w.batch < 1 || w.timeout_ms < 1000)
        throw std::invalid_argument("counts, window, batch and timeout must be positive");
    return w;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const auto w = parse(argc, argv);
        const std::vector<std::uint8_t> payload(w.size, 0x5a);
        nlohmann::json result{{"client", nats_GetVersion()}};
        {
            client c(w, w.window);
            result["publish_sync_per_s"] = publish_sync(c, w, payload);
            result["publish_async_per_s"] = publish_async(c, w, payload);
            result["group_acked_per_s"] = consume_group(c, w, result);
        }
        // The library's threads gone and their memory freed before exit (LeakSanitizer).
        if (const auto s = nats_CloseAndWait(w.timeout_ms); s != NATS_OK) check(s, "close the NATS library");
        std::cout << "result " << result.dump() << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "zmesh-bench-jetstream: " << e.what() << "\n";
        return 1;
    }
}
