// SPDX-License-Identifier: MPL-2.0
// reactor: the loop — it waits, reads the command pipe, and hands each readiness and timer
// to the component that owns it.
#include "reactor.hpp"

#include "command_pipe.hpp"

#include <algorithm>
#include <cerrno>
#include <functional>
#include <span>
#include <stdexcept>
#include <system_error>

namespace zmesh::detail {

namespace {

thread_local reactor* this_thread_reactor = nullptr;

// Returns: the bits, among `which`, of the `sockets` (reactor::polled_sockets()) that hold a
// message now (ZMQ_EVENTS, one syscall each).
unsigned readable_now(std::span<const std::pair<unsigned, zmq::socket_t*>> sockets, unsigned which) {
    unsigned out = 0;
    for (const auto& [bit, socket] : sockets)
        if ((which & bit) && socket->handle() &&
            (socket->get(zmq::sockopt::events) & ZMQ_POLLIN))
            out |= bit;
    return out;
}

}  // namespace

reactor* reactor::of_this_thread() noexcept { return this_thread_reactor; }

void reactor::run() noexcept {
    this_thread_reactor = this;
    try {
        run_posted();   // setup.first
        loop();
    } catch (const std::exception& e) {
        // Only setup-time bugs or ETERM get here: network input never throws.
        log(log_level::error, std::string("reactor stopped: ") + e.what());
    }
    try {
        shut_down();
    } catch (...) {
    }
    this_thread_reactor = nullptr;
}

// The loop's clock read after its wait, read again lazily after posted commands ran (they may
// follow slow handlers): calls' deadlines come at most a round's work early.
reactor::clock::time_point reactor::call_clock() {
    if (round_now_ == clock::time_point{}) round_now_ = clock::now();
    return round_now_;
}

void reactor::call(call_command&& c) {
    if (stopping_) {
        refuse_after_stop(c);   // its caller must not hang
        return;
    }
    client_.call(std::move(c), call_clock());
}

std::array<std::pair<unsigned, zmq::socket_t*>, 10> reactor::polled_sockets() noexcept {
    return {{{polled_commands, &commands_},
             {polled_router, &inbox_.socket()},
             {polled_sub, &subscriber_.socket()},
             {polled_sub_monitor, &subscriber_.monitor()},
             {polled_zap, &security_.zap_socket()},
             {polled_dialer_monitor, &links_.monitor()},
             {polled_dialer, &links_.socket()},
             {polled_pub, &publisher_.socket()},
             {polled_pub_monitor, &listeners_.monitor(listener::pub)},
             {polled_router_monitor, &listeners_.monitor(listener::router)}}};
}

void reactor::run_posted() {
    client_.complete_failed();
    if (posted_.empty()) return;
    // Only what is here now: code these run may post more, for the next round.
    publisher_.new_round();
    round_now_ = {};
    std::swap(posted_, running_);
    auto it = running_.begin();
    for (; it != running_.end() && !stopping_; ++it) {
        if (auto* frame = std::get_if<zmq::message_t>(&*it))
            on_publish(*frame);
        else
            std::visit([this](auto& c) { handle(c); }, std::get<command>(*it));
    }
    // Stopped midway: what is left is refused with the rest (see run()), in order.
    posted_.insert(posted_.begin(), std::make_move_iterator(it), std::make_move_iterator(running_.end()));
    running_.clear();
}

void reactor::loop() {
    // Waited on as plain descriptors (see dirty_), then the beacon's and the RPC workers'
    // answers'; the ZAP socket exists only when secured.
    const auto sockets = polled_sockets();
    constexpr std::uint64_t beacon_tag = std::tuple_size_v<decltype(sockets)>;
    constexpr std::uint64_t answers_tag = beacon_tag + 1;
    constexpr std::uint64_t gossip_tag = answers_tag + 1;
    for (std::uint64_t i = 0; i < beacon_tag; ++i)
        if (sockets[i].second->handle()) waits_.add(sockets[i].second->get(zmq::sockopt::fd), i);
    if (beacons_.fd() >= 0) waits_.add(beacons_.fd(), beacon_tag);
    waits_.add(server_.answers_fd(), answers_tag);
    if (gossip_) waits_.add(gossip_->fd(), gossip_tag);
    std::array<std::uint64_t, 32> signalled;
    unsigned ready = 0;   // sockets known to hold messages, until their handler runs
    while (!stopping_) {
        ready |= readable_now(polled_sockets(), dirty_);
        dirty_ = 0;
        const bool calls_ready = call_links_.readable() || client_.has_failed();
        // While handlers are behind, the SUB is left unread (its peers drop, never block) and
        // the loop wakes every millisecond to see whether they caught up.
        const bool reading = subscriber_.receiving();
        auto now = clock::now();
        const auto next = streams_.next_deadline(std::min(mesh_.next_deadline(), client_.next_deadline()));
        auto wait = std::max<std::int64_t>(
            0, std::chrono::duration_cast<milliseconds>(next - now).count() + 1);
        if (!reading) wait = std::min<std::int64_t>(wait, 1);
        if (!posted_.empty() || calls_ready || (ready & (reading ? polled_all : polled_all & ~polled_sub)))
            wait = 0;
        // A signalled socket is read, not asked first: its handler's first receive processes
        // the commands behind the signal as a ZMQ_EVENTS check would, and a false alarm
        // costs one EAGAIN, what the check costs every time.
        bool beacon_ready = false, answers_ready = false, gossip_ready = false;
        for (const auto tag : waits_.wait(signalled, static_cast<int>(wait))) {
            if (tag < beacon_tag)
                ready |= sockets[tag].first;
            else if (tag == beacon_tag)
                beacon_ready = true;
            else if (tag == answers_tag)
                answers_ready = true;
            else if (tag == gossip_tag)
                gossip_ready = true;
            else
                call_links_.signalled(static_cast<int>(tag - call_links::wait_tag));
        }
        now = round_now_ = clock::now();
        // Each handler below reads its socket until empty or a batch is full, and the socket
        // is checked again before the next wait, unless the handler returns true: it read
        // until libzmq said EAGAIN and did nothing else with the socket, so that read
        // processed the socket's commands and its descriptor will signal the next message
        // (a ZMQ_EVENTS check costs two syscalls, a good part of a round trip's). Handlers
        // that cannot tell are `unsure`.
        // A handler that ends on EAGAIN also settles sends made earlier in the round (its
        // last operation on the socket processed them): no ZMQ_EVENTS check for those.
        const auto run = [&](unsigned bit, auto&& handler) {
            if (!(ready & bit)) return;
            ready &= ~bit;
            if (handler())
                dirty_ &= ~bit;
            else
                dirty_ |= bit;
        };
        const auto unsure = [](auto&& handler) {
            return [handler] {
                handler();
                return false;
            };
        };
        run(polled_commands, unsure([&] { on_pipe(); }));
        if (stopping_) break;
        // What the last message's handler asked for (a pipelined caller's next call) goes out
        // before the next message is read, not at the end of the round: libzmq's I/O thread
        // sends it while this loop goes on.
        const auto between = [this] {
            run_posted();
            return !stopping_;
        };
        run(polled_router, [&] { return inbox_.on_readable(between, *this); });
        run(polled_dialer, [&] {
            return links_.on_readable(between, [&](const node_id& from, zmq::message_t& frame) {
                on_link_reply(from, frame);
            });
        });
        client_.read_call_links(now, [&] {
            run_posted();   // the last reply's callback's next call goes out first
            return !stopping_;
        });
        if (subscriber_.receiving()) run(polled_sub, [&] { return subscriber_.on_readable(now); });
        run(polled_sub_monitor, unsure([&] { subscriber_.on_monitor(now); }));
        run(polled_dialer_monitor, unsure([&] {
            links_.on_monitor([&](const node_id& id, link_event e) { mesh_.on_link_event(id, e, now); });
        }));
        if (answers_ready) server_.on_answers();
        run(polled_zap, unsure([&] { security_.on_zap(); }));
        // Connections first: a subscription's descriptor is then known to be open.
        run(polled_pub_monitor, unsure([&] { listeners_.on_monitor(listener::pub); }));
        run(polled_router_monitor, unsure([&] { listeners_.on_monitor(listener::router); }));
        run(polled_pub, unsure([&] { publisher_.on_readable(); }));
        if (beacon_ready)
            beacons_.on_readable(now, [&](const protocol::beacon& b, const std::string& host) {
                mesh_.on_beacon(b, host, now);
            });
        if (gossip_ready) on_gossip_readable(now);
        on_timers(clock::now());
        run_posted();
        streams_.flush();   // what this round published, stored; the consumers' settles, batched
        outbox_.flush();    // call outcomes of this round, in one message
        signal_view_changes();
    }
}

void reactor::on_pipe() {
    publisher_.new_round();
    round_now_ = {};
    for (int i = 0; i < max_batch && !stopping_; ++i) {
        auto msg = receive_from_pipe(commands_);
        if (!msg) break;
        if (auto* c = std::get_if<std::unique_ptr<command>>(&*msg))
            std::visit([this](auto& c) { handle(c); }, **c);
        else
            on_publish(std::get<zmq::message_t>(*msg));
    }
    outbox_.flush();   // own events for own subscriptions
}

void reactor::on_gossip_readable(clock::time_point now) {
    // A batch at most: what is left keeps the descriptor readable for the next round.
    for (int i = 0; i < max_batch; ++i) {
        auto d = gossip_->receive(protocol::max_gossip_size);
        if (!d) break;
        mesh_.on_gossip(d->bytes, d->from, now);
    }
}

void reactor::on_timers(clock::time_point now) {
    if (security_.reload(now)) drop_revoked();
    mesh_.on_timers(now);
    subscriber_.on_timers(now);
    client_.expire(now);
    streams_.on_timers(now, unix_now_us());
}

}  // namespace zmesh::detail
