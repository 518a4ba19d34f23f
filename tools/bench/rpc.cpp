// SPDX-License-Identifier: MPL-2.0
// rpc: a client process calls an echo method on a server process — first one call at a time
// (round-trip latency percentiles), then --window calls outstanding (calls/s). The baseline
// is the same in raw libzmq: a DEALER sending to a ROUTER that echoes.
#include "bench.hpp"

#include <zmesh/node.hpp>

#include <poll.h>
#include <unistd.h>

#include <zmq.hpp>

#include <atomic>
#include <future>
#include <thread>

namespace zmesh::bench {
namespace {

const std::string method = "bench.echo";
constexpr std::uint64_t warmup = 1000;

struct latencies {
    std::vector<double> us;
    nlohmann::json to_json(double calls_per_s, std::uint64_t errors) const {
        return {{"p50_us", percentile(us, 50)},   {"p90_us", percentile(us, 90)},
                {"p99_us", percentile(us, 99)},   {"p999_us", percentile(us, 99.9)},
                {"calls_per_s", calls_per_s},     {"errors", errors}};
    }
};

// Times `call_one` `count` times in a row. Returns: each round trip in µs.
template <class Call>
latencies sequential(std::uint64_t count, Call call_one) {
    for (std::uint64_t i = 0; i < warmup; ++i) call_one();
    latencies l;
    l.us.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        const auto t0 = now_ns();
        call_one();
        l.us.push_back(static_cast<double>(now_ns() - t0) / 1e3);
    }
    return l;
}

// Times `count` calls made one at a time, each started by the previous one's callback on
// the reactor: raw's shape (one thread sends, waits, reads) with no hop to or from an
// application thread. Returns: each round trip in µs; failures counted in `errors`.
latencies chained(node& n, std::uint64_t count, const std::vector<std::uint8_t>& args,
                  milliseconds timeout, std::atomic<std::uint64_t>& errors) {
    latencies l;
    l.us.reserve(count);
    std::promise<void> finished;
    std::uint64_t done = 0;   // these three are touched on the reactor only
    std::int64_t t0 = 0;
    std::function<void()> next;
    next = [&] {
        t0 = now_ns();
        n.call(method, args, timeout, [&](const call_result& r) {
            const auto t = now_ns();
            if (!r.ok()) ++errors;
            if (done++ >= warmup) l.us.push_back(static_cast<double>(t - t0) / 1e3);
            if (done == warmup + count)
                finished.set_value();
            else
                next();
        }, run_on::reactor);
    };
    next();
    finished.get_future().wait();
    return l;
}

double per_second(std::uint64_t count, std::int64_t t0) {
    return static_cast<double>(count) / std::max(1e-9, static_cast<double>(now_ns() - t0) / 1e9);
}

int zmesh_server(const settings& s) {
    auto o = node_options(s, "bench-server");
    o.max_rpc_size = s.get<std::size_t>("size") + 64;
    node n(o);
    n.serve(method, [](const request& r) -> response { return r; }, where(s));
    n.start();
    wait_for_stop();
    return 0;
}

int zmesh_client(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    const auto pipelined = s.get<std::uint64_t>("pipelined");
    const auto window = std::min(s.get<std::uint64_t>("window"), pipelined);
    auto o = node_options(s, "bench-client");
    o.max_rpc_size = s.get<std::size_t>("size") + 64;
    node n(o);
    n.start();
    const auto deadline = s.deadline();
    auto served = [&] {
        for (const auto& p : n.peers())
            if (p.state == peer_state::joined &&
                std::find(p.services.begin(), p.services.end(), method) != p.services.end())
                return true;
        return false;
    };
    while (!served()) {
        if (clock::now() > deadline) throw std::runtime_error("no server joined");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const std::vector<std::uint8_t> args(s.get<std::size_t>("size"), 0x5a);
    // A call lost on the way (a link dropped under load) is counted in the report's errors
    // after this, rather than holding the run until the parent's --timeout gives up on it.
    const auto timeout = std::min(std::chrono::duration_cast<milliseconds>(s.timeout), milliseconds(10'000));
    // --handler threads: the blocking future of an application thread, two thread hops more.
    const auto run_where = where(s);
    std::atomic<std::uint64_t> errors{0};
    const auto l = run_where == run_on::reactor
                       ? chained(n, count, args, timeout, errors)
                       : sequential(count, [&] { (void)n.call(method, args, timeout).get(); });

    // Each completion starts the next call (on the reactor or the delivery thread), so
    // `window` stay out. The callback holds one pointer, which std::function keeps inline:
    // no allocation per call of the benchmark's own, as raw's loop has none. Its counters are
    // plain, as raw's: one thread runs every callback (the reactor, or the delivery thread),
    // and the promise hands the end to the main thread.
    struct pipeline {
        node& n;
        const std::vector<std::uint8_t>& args;
        milliseconds timeout;
        run_on where;
        std::uint64_t total;
        std::atomic<std::uint64_t>& errors;
        std::uint64_t started, done = 0;
        std::promise<void> finished;
        void call_next() {
            n.call(method, args, timeout, [this](const call_result& r) { completed(r); }, where);
        }
        void completed(const call_result& r) {
            if (!r.ok()) errors.fetch_add(1, std::memory_order_relaxed);
            if (started++ < total) call_next();
            if (++done == total) finished.set_value();
        }
    } p{n, args, timeout, run_where, pipelined, errors, window, 0, {}};
    auto finished = p.finished.get_future();
    const auto t0 = now_ns();
    for (std::uint64_t i = 0; i < window; ++i) p.call_next();
    finished.wait();
    say("result " + l.to_json(per_second(pipelined, t0), errors).dump());
    wait_for_stop();
    n.stop();   // before what its callbacks use goes away
    return 0;
}

int raw_server(const settings&) {
    zmq::context_t ctx;
    zmq::socket_t router(ctx, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:*");
    say("ready " + router.get(zmq::sockopt::last_endpoint));
    zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, STDIN_FILENO, ZMQ_POLLIN, 0}};
    zmq::message_t id, body;
    while (true) {
        zmq::poll(items, 2, std::chrono::milliseconds(-1));
        if (items[1].revents) break;   // stdin closed: stop
        while (router.recv(id, zmq::recv_flags::dontwait)) {
            (void)router.recv(body);
            router.send(id, zmq::send_flags::sndmore);
            router.send(body, zmq::send_flags::none);
        }
    }
    return 0;
}

int raw_client(const settings& s) {
    const auto count = s.get<std::uint64_t>("count");
    const auto pipelined = s.get<std::uint64_t>("pipelined");
    const auto window = std::min(s.get<std::uint64_t>("window"), pipelined);
    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(s.get<std::string>("endpoint"));
    const std::vector<std::uint8_t> args(s.get<std::size_t>("size"), 0x5a);
    zmq::message_t reply;
    const auto l = sequential(count, [&] {
        dealer.send(zmq::buffer(args), zmq::send_flags::none);
        (void)dealer.recv(reply);
    });
    const auto t0 = now_ns();
    std::uint64_t sent = 0;
    for (; sent < window; ++sent) dealer.send(zmq::buffer(args), zmq::send_flags::none);
    for (std::uint64_t done = 0; done < pipelined; ++done) {
        (void)dealer.recv(reply);
        if (sent < pipelined) {
            dealer.send(zmq::buffer(args), zmq::send_flags::none);
            ++sent;
        }
    }
    say("result " + l.to_json(per_second(pipelined, t0), 0).dump());
    wait_for_stop();
    return 0;
}

// Returns: the client's result, after stopping both.
nlohmann::json collect(std::vector<std::unique_ptr<child>>& both, const settings& s) {
    const auto deadline = s.deadline();
    auto result = expect_result(*both.back(), deadline, "client");
    stop_all(both, deadline);
    if (result["errors"].get<std::uint64_t>() != 0)
        throw std::runtime_error(result["errors"].dump() + " pipelined calls failed");
    return result;
}

}  // namespace

roles rpc_roles() {
    return {{"zmesh-server", zmesh_server}, {"zmesh-client", zmesh_client},
            {"raw-server", raw_server},     {"raw-client", raw_client}};
}

int run_rpc(const settings& s) {
    const auto size = s.get<std::size_t>("size");
    const auto count = s.get<std::uint64_t>("count");
    const auto pipelined = s.get<std::uint64_t>("pipelined");
    const auto window = s.get<std::uint64_t>("window");
    const auto handler = s.get<std::string>("handler");
    const std::vector<std::string> shape = {
        "--size",      std::to_string(size),      "--count",  std::to_string(count),
        "--pipelined", std::to_string(pipelined), "--window", std::to_string(window),
        "--handler",   handler};
    report r("rpc", {{"size", size}, {"count", count}, {"pipelined", pipelined}, {"window", window},
                     {"handler", handler}});
    const std::vector<std::pair<std::string, std::string>> figures = {
        {"p50_us", "round trip p50 (us)"},   {"p90_us", "round trip p90 (us)"},
        {"p99_us", "round trip p99 (us)"},   {"p999_us", "round trip p99.9 (us)"}};
    for (int run = 1; run <= s.runs; ++run) {
        std::vector<std::unique_ptr<child>> both;
        both.push_back(std::make_unique<child>(args_with(s.peer_args("zmesh-server"), shape)));
        both.push_back(std::make_unique<child>(args_with(s.peer_args("zmesh-client"), shape)));
        const auto z = collect(both, s);

        both.push_back(std::make_unique<child>(args_with(s.peer_args("raw-server"), shape)));
        const auto endpoint = both.front()->expect("ready", s.deadline(), "raw server");
        both.push_back(std::make_unique<child>(
            args_with(s.peer_args("raw-client"), args_with(shape, {"--endpoint", endpoint}))));
        const auto raw = collect(both, s);

        for (const auto& [key, label] : figures) {
            auto& m = r.at(key, label, false);
            m.zmesh.push_back(z[key].get<double>());
            m.raw.push_back(raw[key].get<double>());
        }
        auto& rate = r.at("calls_per_s", "pipelined calls/s");
        rate.zmesh.push_back(z["calls_per_s"].get<double>());
        rate.raw.push_back(raw["calls_per_s"].get<double>());
        progress("rpc run " + std::to_string(run) + "/" + std::to_string(s.runs) + ": p50 zmesh " +
                 z["p50_us"].dump() + " us, raw " + raw["p50_us"].dump() + " us");
    }
    r.print(s.json);
    return 0;
}

}  // namespace zmesh::bench
