// SPDX-License-Identifier: MPL-2.0
// fake_peer: a mesh peer made of raw sockets, driven by hand, so a test can send a node what
// no real node would. It binds a ROUTER (where the node dials back) and an XPUB (where the
// node's SUB connects; XPUB shows the test the node's subscriptions as they arrive), and
// talks to the node's ROUTER through a DEALER whose routing id is its node id.
#pragma once

#include "protocol/control.hpp"
#include "protocol/rpc.hpp"
#include "protocol/node_id.hpp"

#include <zmesh/node.hpp>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace zmesh::test {

class fake_peer {
public:
    using bytes = std::vector<std::uint8_t>;

    const protocol::node_id id = protocol::node_id::random();

    fake_peer() {
        pub_.set(zmq::sockopt::sndhwm, 100000);   // tests send bursts: drop none of them
        for (auto* s : {&router_, &pub_}) {
            s->set(zmq::sockopt::linger, 0);
            s->bind("tcp://127.0.0.1:*");
        }
    }

    zmq::context_t& context() { return ctx_; }
    std::string router_endpoint() { return router_.get(zmq::sockopt::last_endpoint); }
    std::string pub_endpoint() { return pub_.get(zmq::sockopt::last_endpoint); }

    // Opens the DEALER to `target`'s ROUTER; later sends go there.
    void connect(const node& target) {
        target_ = target.id();
        dealer_ = dealer_at(target, id);
    }

    // Returns: a raw DEALER at `target`'s ROUTER whose routing id is `as`.
    zmq::socket_t dealer_at(const node& target, const protocol::node_id& as) {
        zmq::socket_t s(ctx_, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::routing_id, zmq::buffer(as.bytes()));
        s.connect(target.router_endpoint());
        return s;
    }

    // Quotes the node's link token once its HELLO was read (next_from_node and the
    // readers built on it), as a real peer does: a HELLO after joining must.
    void say_hello(const std::string& mesh, const std::vector<std::string>& services = {},
                   std::uint8_t flags = 0) {
        send({protocol::encode_control(protocol::hello{mesh, id, "fake", pub_endpoint(),
                                                       router_endpoint(), flags, services,
                                                       0, node_token_})});
    }
    // Returns: a LEAVE the node believes: it quotes the node's token (see say_hello).
    protocol::leave leave() const { return protocol::leave{node_token_}; }

    // Sends one multipart message to the connected node's ROUTER.
    void send(const std::vector<bytes>& frames) { send_frames(dealer_, frames); }

    // Publishes one multipart message on the XPUB, frames as given.
    void publish(const std::vector<bytes>& frames) { send_frames(pub_, frames); }

    static void send_frames(zmq::socket_t& s, const std::vector<bytes>& frames) {
        for (std::size_t i = 0; i < frames.size(); ++i)
            s.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }

    // Returns: true once a SUB subscribed `prefix` at the XPUB; after that the XPUB delivers
    // matching messages to it (XPUB applies a filter before handing it to the test).
    bool wait_subscribed(const std::string& prefix, std::chrono::milliseconds timeout) {
        return wait_filter('\x01' + prefix, timeout);
    }
    // Returns: true once a SUB unsubscribed `prefix` at the XPUB.
    bool wait_unsubscribed(const std::string& prefix, std::chrono::milliseconds timeout) {
        return wait_filter('\x00' + prefix, timeout);
    }
    // Returns: true once the XPUB passed on the filter message `want`.
    bool wait_filter(const std::string& want, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            zmq::message_t m;
            if (!receive(pub_, m, deadline)) return false;
            if (m.to_string() == want) return true;
        }
    }

    // Returns: the frames after the routing id of the next message the connected node sent
    // the ROUTER with `count` of them (others skipped); empty after `timeout`.
    std::vector<bytes> next_from_node(std::size_t count, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            std::vector<bytes> frames;
            zmq::message_t m;
            if (!receive(router_, m, deadline)) return {};
            for (;;) {
                const auto* b = static_cast<const std::uint8_t*>(m.data());
                frames.emplace_back(b, b + m.size());
                if (!m.more()) break;
                (void)router_.recv(m);
            }
            // Others may dial the fake too (they learn of it from the node's PEERS).
            note(frames);
            if (frames.size() != count + 1 || !from_target(frames[0])) continue;
            frames.erase(frames.begin());
            return frames;
        }
    }

    // Returns: the next message on `s`, frame by frame; empty after `timeout`.
    static std::vector<bytes> next_message(zmq::socket_t& s, std::chrono::milliseconds timeout) {
        std::vector<bytes> frames;
        zmq::message_t m;
        if (!receive(s, m, std::chrono::steady_clock::now() + timeout)) return frames;
        for (;;) {
            const auto* b = static_cast<const std::uint8_t*>(m.data());
            frames.emplace_back(b, b + m.size());
            if (!m.more()) break;
            (void)s.recv(m);
        }
        return frames;
    }
    // Returns: the next message the connected node sent back on our DEALER (a REPLY to a
    // REQUEST of ours comes back on the connection it went by); empty after `timeout`.
    std::vector<bytes> next_on_dealer(std::chrono::milliseconds timeout) {
        return next_message(dealer_, timeout);
    }
    // Returns: the next message at our ROUTER from anyone, its routing id first; empty after
    // `timeout`.
    std::vector<bytes> next_at_router(std::chrono::milliseconds timeout) {
        auto frames = next_message(router_, timeout);
        note(frames);
        return frames;
    }
    // The link token the node gave the fake (its HELLO), once one was read here; 0 before.
    std::uint64_t node_token() const { return node_token_; }
    // Sends one multipart message from our ROUTER to the connection of `routing_id`.
    void send_at_router(const bytes& routing_id, const std::vector<bytes>& frames) {
        router_.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
        send_frames(router_, frames);
    }

    // Sends one multipart message back on the connected node's link to our ROUTER (where a
    // REPLY to its REQUEST goes).
    void send_on_its_link(const std::vector<bytes>& frames) {
        std::array<std::uint8_t, protocol::max_routing_id_size> routing;
        const auto link = protocol::routing_id_of({target_, false, node_token_}, routing);
        router_.send(zmq::buffer(link.data(), link.size()), zmq::send_flags::sndmore);
        send_frames(router_, frames);
    }

    // Returns: true when the next message of `type` the node sent arrived before `timeout`.
    bool wait_control(protocol::msg_type type, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left <= std::chrono::milliseconds(0)) return false;
            const auto frames = next_from_node(1, left);
            if (frames.empty()) return false;
            if (frames[0].size() >= 2 && frames[0][1] == static_cast<std::uint8_t>(type)) return true;
        }
    }

private:
    // Returns: whether `routing` is the connected node's link (its id, then its token).
    bool from_target(const bytes& routing) const {
        const auto route = protocol::read_routing_id(routing);
        return route && route->id == target_ && !route->call_link;
    }
    // Keeps the token of a HELLO the connected node sent on its link.
    void note(const std::vector<bytes>& frames) {
        if (frames.size() != 2 || !from_target(frames[0])) return;
        if (const auto m = protocol::decode_control(frames[1]))
            if (const auto* h = std::get_if<protocol::hello>(&*m)) node_token_ = h->token;
    }

    // Returns: true with the next message part of `s` in `m`, false once `deadline` passed.
    static bool receive(zmq::socket_t& s, zmq::message_t& m,
                        std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left <= std::chrono::milliseconds(0)) return false;
            zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, left);
            if ((item.revents & ZMQ_POLLIN) && s.recv(m, zmq::recv_flags::dontwait)) return true;
        }
    }

    zmq::context_t ctx_;
    zmq::socket_t router_{ctx_, zmq::socket_type::router};   // the node dials back here
    zmq::socket_t pub_{ctx_, zmq::socket_type::xpub};        // and connects its SUB here
    zmq::socket_t dealer_;                                   // ours, at the node's ROUTER
    protocol::node_id target_;
    std::uint64_t node_token_ = 0;   // the link token the node gave us, once seen
};

}  // namespace zmesh::test
