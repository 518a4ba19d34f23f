// SPDX-License-Identifier: MPL-2.0
// reactor, set-up and shut-down: the pipe's sockets, the components, and in the end LEAVE and
// every socket closed in an order libzmq accepts.
#include "reactor.hpp"

#include "descriptors.hpp"
#include "command_pipe.hpp"
#include "protocol/event.hpp"

namespace zmesh::detail {

namespace {

// Raises the process's descriptor limit to its hard limit (logged at debug) and warns, in
// one line, when max_peers would need more.
void check_descriptors(const node_context& ctx) {
    const auto limit = raise_descriptor_limit();
    if (!limit) return;
    if (limit->now != limit->before)
        ctx.log(log_level::debug, "file descriptor limit raised from " + std::to_string(limit->before) +
                                      " to " + std::to_string(limit->now));
    if (const auto shortfall = descriptor_shortfall(ctx.opts.max_peers, limit->now))
        ctx.log(log_level::warn, *shortfall);
}

}  // namespace

reactor::reactor(setup s)
    : opts_(std::move(s.opts)),
      id_(s.id),
      commands_(pipe_context(), zmq::socket_type::pull),
      deliveries_(std::move(s.deliveries)),
      counters_(std::move(s.counters)),
      subscriber_(ctx_, *counters_, outbox_, mesh_.table(), security_, mesh_, net_ctx_, used(polled_sub)),
      server_(ctx_, inbox_, std::move(s.workers), counters_->handler_log, *this),
      streams_(ctx_, *counters_, [this](const node_id& to, zmq::message_t& frame) { return mesh_.send_on_link(to, frame); }, outbox_,
               std::move(s.settlers)),
      stream_admin_(ctx_, streams_,
                    [this](const pending_reply& to, std::int64_t code, const std::string& message,
                           std::span<const std::uint8_t> result) { server_.answer(to, code, message, result); },
                    [this](std::string_view topic, std::span<const std::uint8_t> payload, stored_callback stored) {
                        // Laid out as node::publish_stored lays out its events.
                        zmq::message_t frame(protocol::event_frame_size(topic.size(), payload.size()));
                        protocol::lay_out_event_frame(topic, payload, {frame.data<std::uint8_t>(), frame.size()});
                        on_publish(frame, stored);
                    }),
      view_(std::move(s.view)) {
    check_descriptors(ctx_);
    commands_.set(zmq::sockopt::linger, 0);
    commands_.bind(s.command_endpoint);
    for (auto& c : s.first) posted_.emplace_back(std::move(c));

    if (ctx_.gossips()) {
        gossip_.emplace(opts_.bind, inbox_.port());
        wire_.use_gossip(*gossip_);
    }
    beacons_.set_ports(publisher_.port(), inbox_.port());
    const auto host = beacons_.hello_host();
    mesh_.advertise("tcp://" + host + ":" + std::to_string(publisher_.port()),
                    "tcp://" + host + ":" + std::to_string(inbox_.port()));
    log(log_level::info, "node " + id_.short_hex() + " on mesh '" + opts_.mesh + "': pub " + pub_endpoint() +
                             ", router " + router_endpoint());
}

reactor::~reactor() = default;

void reactor::shut_down() {
    stopping_ = true;   // also after a throw: reactor code calling now is refused, not sent
    // Nothing pending may hang: every open call fails now.
    client_.fail_all(rpc_error(rpc_errc::stopped, "node stopped"));
    server_.stop();
    mesh_.leave_all();
    listeners_.close(publisher_.socket(), inbox_.socket());
    call_links_.close_all();
    links_.close_all();   // gives LEAVE time to go
    seeds_.close();
    subscriber_.close();
    inbox_.close();
    publisher_.close();
    security_.close();   // the context cannot close while any socket of it is open
    net_ctx_.close();
    // Commands that raced with stop: queries see a broken promise, calls fail as stopped;
    // nobody hangs. (Publishes are dropped with the rest.)
    while (auto msg = receive_from_pipe(commands_))
        if (auto* c = std::get_if<std::unique_ptr<command>>(&*msg)) refuse_after_stop(**c);
    for (auto& item : posted_)
        if (auto* c = std::get_if<command>(&item)) refuse_after_stop(*c);
    posted_.clear();
    outbox_.flush();
    outbox_.send(end_of_deliveries{});
    if (view_) view_->close();
}

void reactor::refuse_after_stop(command& cmd) {
    if (auto* c = std::get_if<call_command>(&cmd)) refuse_after_stop(*c);
}

void reactor::refuse_after_stop(call_command& c) {
    const rpc_error stopped(rpc_errc::stopped, "node stopped");
    if (auto* p = std::get_if<std::promise<reply>>(&c.done))
        p->set_exception(std::make_exception_ptr(stopped));
    else   // on the delivery thread even for run_on::reactor: this thread is done with code
        outbox_.send(call_completed{std::move(std::get<call_callback>(c.done)), call_result(stopped)});
}

}  // namespace zmesh::detail
