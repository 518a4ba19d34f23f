// SPDX-License-Identifier: MPL-2.0
// call_links: opening, sending on and reading each call link.
#include "call_links.hpp"

#include "protocol/rpc.hpp"

namespace zmesh::detail {

call_links::link* call_links::open(const protocol::node_id& peer, const std::string& router_endpoint,
                                std::uint64_t token) {
    if (const auto it = links_.find(peer); it != links_.end()) return &it->second;
    link l;
    try {
        auto s = std::make_unique<zmq::socket_t>(net_, zmq::socket_type::dealer);
        s->set(zmq::sockopt::linger, 0);
        // As the dialler's: a full queue fails the call, and REPLYs are all read, whatever
        // their number, up to a REPLY's size each.
        s->set(zmq::sockopt::sndhwm, ctx_.opts.peer_queue);
        s->set(zmq::sockopt::rcvhwm, 0);
        s->set(zmq::sockopt::maxmsgsize,
               static_cast<int64_t>(protocol::max_rpc_header_size + ctx_.opts.max_rpc_size));
        std::array<std::uint8_t, protocol::max_routing_id_size> routing;
        const auto routing_id = protocol::routing_id_of({ctx_.id, true, token}, routing);
        s->set(zmq::sockopt::routing_id, zmq::buffer(routing_id.data(), routing_id.size()));
        if (!security_.secure_client(*s, peer)) return nullptr;
        // No monitor: the link beside it tells when the peer goes, and its leaving closes
        // this one.
        s->connect(router_endpoint);
        l.fd_ = s->get(zmq::sockopt::fd);
        waits_.add(l.fd_, wait_tag + static_cast<std::uint64_t>(l.fd_));
        l.socket_ = std::move(s);
    } catch (const std::exception& e) {   // zmq's errors, or the kernel's (watching it)
        ctx_.log(log_level::warn, "cannot open a call link to " + peer.short_hex() + ": " + e.what());
        return nullptr;
    }
    l.dirty_ = true;
    return &links_.emplace(peer, std::move(l)).first->second;
}

bool call_links::link::send(zmq::message_t& frame) {
    dirty_ = true;   // a send may take the signal of a reply waiting to be read
    try {
        return socket_->send(frame, zmq::send_flags::dontwait).has_value();   // EAGAIN: full
    } catch (const zmq::error_t&) {
        return false;
    }
}

void call_links::close(const protocol::node_id& peer) {
    const auto it = links_.find(peer);
    if (it == links_.end()) return;
    waits_.remove(it->second.fd_);
    links_.erase(it);   // closed with its socket (linger 0)
}

void call_links::close_all() {
    for (auto& [peer, l] : links_) waits_.remove(l.fd_);
    links_.clear();
}

void call_links::signalled(int fd) {
    for (auto& [peer, l] : links_)
        if (l.fd_ == fd) {
            l.ready_ = true;
            return;
        }
}

bool call_links::readable() {
    bool any = false;
    for (auto& [peer, l] : links_) {
        if (l.dirty_) {
            l.dirty_ = false;
            l.ready_ |= (l.socket_->get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
        }
        any |= l.ready_;
    }
    return any;
}

void call_links::read(const std::function<void(const protocol::node_id&, zmq::message_t&)>& on_reply,
                      const std::function<bool()>& between) {
    // By id, not by link: a callback run here may close a link, or open one.
    round_.clear();
    for (const auto& [peer, l] : links_)
        if (l.ready_) round_.push_back(peer);
    for (const auto& peer : round_) {
        const auto l = links_.find(peer);
        if (l == links_.end() || !l->second.ready_) continue;
        l->second.ready_ = false;
        if (!read_one(peer, on_reply, between))
            if (const auto again = links_.find(peer); again != links_.end()) again->second.dirty_ = true;
    }
}

bool call_links::read_one(const protocol::node_id& peer,
                          const std::function<void(const protocol::node_id&, zmq::message_t&)>& on_reply,
                          const std::function<bool()>& between) {
    zmq::message_t frame;
    for (int i = 0; i < 256; ++i) {
        if (!between()) return false;
        // Found again each time: the last reply's callback may have closed it.
        const auto it = links_.find(peer);
        if (it == links_.end()) return true;
        auto& socket = *it->second.socket_;
        // Read until empty: that last read settled the sends before it, and its descriptor
        // signals the next message.
        if (!socket.recv(frame, zmq::recv_flags::dontwait)) return true;
        if (frame.more()) {   // a REPLY is one frame
            for (zmq::message_t extra; frame.more();) {
                (void)socket.recv(extra);
                frame.swap(extra);
            }
            ++ctx_.stats.frames_invalid;
            continue;
        }
        on_reply(peer, frame);
    }
    return false;
}

}  // namespace zmesh::detail
