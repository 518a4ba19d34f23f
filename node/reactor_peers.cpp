// SPDX-License-Identifier: MPL-2.0
// reactor, between components: what the mesh and the inbox report, passed to the components
// that must hear of it, in the order that keeps what the application sees consistent.
#include "reactor.hpp"

namespace zmesh::detail {

void reactor::peer_changed(const discovery::peer_change& c) {
    const auto now = clock::now();
    peer_info info = to_info(c.snapshot, now);
    const bool joined = c.kind == discovery::change_kind::joined, left = c.kind == discovery::change_kind::left;
    if (joined) ++stats_.peers_joined;
    if (left) ++stats_.peers_left;
    // An observer (a monitor, a one-shot zmesh command) coming and going is no news of the mesh.
    log(joined || left ? (c.snapshot.observer ? log_level::debug : log_level::info) : log_level::warn,
        "peer " + info.name + " (" + info.id.short_hex() + ") " + std::string(to_string(c.kind)) +
            (c.reason != leave_reason::none ? " (" + std::string(to_string(c.reason)) + ")" : ""));
    outbox_.flush();   // events that came before this change are handled before it
    outbox_.send(peer_event{c.kind, c.reason, std::move(info)});
    if (joined) subscriber_.peer_joined(c.snapshot, now);
    // Publishers are members; a consumer may be an observer (a zmesh command).
    if (joined && !c.snapshot.observer) streams_.member_joined(c.snapshot.id, now);
    if (left) streams_.member_left(c.snapshot.id, now);
    if (left) client_.peer_left(c.snapshot.id, c.snapshot.name + " left (" + std::string(to_string(c.reason)) + ")");
}

void reactor::peer_dialled(const node_id& id, const std::string& name, const std::string& pub_endpoint) {
    subscriber_.peer_dialled(id, name, pub_endpoint);
}

void reactor::handle(subscribe_command& c) {
    subscriber_.subscribe(c);
    mesh_.link_wanted(call_clock());   // the members that publish what it takes now
}

void reactor::peer_named(const node_id& id, const std::string& name) { subscriber_.peer_named(id, name); }

void reactor::peer_unlinked(const node_id& id, const std::string& pub_endpoint) {
    call_links_.close(id);   // closed with the link (linger 0)
    subscriber_.peer_gone(id, pub_endpoint);
}

void reactor::peer_subscribes(discovery::peer& p, protocol::subs&& s) {
    subscriber_.peer_subscribes(p, std::move(s));
    // This peer's filters came before its SUBS: the PUB takes them now, so an event
    // published right after "subscriptions known" is not filtered out.
    publisher_.take_subscriptions();
    subscriptions_changed_ = true;
}

void reactor::signal_view_changes() {
    // Once a round at most, and only on a change: membership moves slowly next to rounds.
    if (mesh_.table().version() == view_version_ && !subscriptions_changed_) return;
    view_version_ = mesh_.table().version();
    subscriptions_changed_ = false;
    if (view_) view_->changed();
}

void reactor::stats_asked(const node_id& from) {
    // Every counter fits one STATS, so encoding it never fails for its size.
    static_assert(std::size(node_counters) <= protocol::max_stats_counters);
    wire_.send(from, protocol::stats{counters_of(current_stats())});
}

void reactor::on_control(const std::optional<protocol::sender_route>& sender, protocol::control& msg) {
    mesh_.on_control(sender, msg, call_clock());
}

void reactor::on_rpc(routed_frame& in, std::uint8_t type) {
    const auto now = call_clock();
    auto* from = mesh_.known_sender(in.route, now);
    if (!from) return;
    if (type == protocol::request_type)
        server_.on_request(from->id, from->name, in, now);
    else if (const auto m = protocol::decode_reply(in.bytes))
        client_.on_reply(*from, in.frame, *m);
    else
        ++stats_.frames_invalid;
}

bool reactor::on_reserved(const node_id& caller, std::string_view method, std::span<const std::uint8_t> args,
                          const pending_reply& reply) {
    (void)caller;   // any member may ask; what it may change is options::stream_admin's
    return stream_admin_.on_request(method, args, reply);
}

void reactor::on_stream(const protocol::sender_route& sender, std::span<const std::uint8_t> frame,
                        std::uint8_t type) {
    const auto now = call_clock();
    if (auto* from = mesh_.known_sender(sender, now)) streams_.on_frame(from->id, frame, type, now);
}

void reactor::on_link_reply(const node_id& id, zmq::message_t& frame) {
    auto* from = mesh_.member(id);
    if (!from) return;
    // decode_reply checks the version and the type itself: nothing else comes back on a link.
    const auto m = protocol::decode_reply(bytes_of(frame));
    if (!m) {
        ++stats_.frames_invalid;
        return;
    }
    mesh_.peer_alive(id, call_clock());
    client_.on_reply(*from, frame, *m);
}

void reactor::drop_revoked() {
    std::vector<std::pair<node_id, std::string>> revoked;
    for (const auto& [id, p] : mesh_.table().all())
        if (!security_.allows(id)) revoked.emplace_back(id, p.pub_endpoint);
    for (const auto& [id, pub_endpoint] : revoked) {
        mesh_.drop_peer(id, leave_reason::revoked);
        subscriber_.peer_revoked(id, pub_endpoint);
    }
    listeners_.cut_revoked();
}

}  // namespace zmesh::detail
