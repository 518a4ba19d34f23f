// SPDX-License-Identifier: MPL-2.0
// reactor, security: CURVE on every network socket of a secured node, the ZAP handler that
// admits only allowed keys, the check that a sender's id is its key's, and the allowlist's
// reloads. In a plain mesh none of this runs.
#include "reactor.hpp"

#include "keys.hpp"

#include <cstring>

namespace zmesh::detail {

namespace {

// libzmq asks this inproc endpoint of the socket's context about each new connection.
const char* const zap_endpoint = "inproc://zeromq.zap.01";

std::string z85_of(const curve_key& key) {
    char z85[41] = {};
    zmq_z85_encode(z85, key.data(), key.size());
    return z85;
}

}  // namespace

void reactor::secure_server(zmq::socket_t& s) {
    if (!secured()) return;
    s.set(zmq::sockopt::curve_server, 1);
    s.set(zmq::sockopt::curve_secretkey, secret_key_);
    s.set(zmq::sockopt::zap_domain, "zmesh");
}

bool reactor::may_dial(const node_id& peer) {
    if (!secured() || allow_->key_for(peer)) return true;
    ++stats_.peers_not_allowed;
    warn_once("peer " + peer.hex(), log_level::info,
              "not dialling " + peer.short_hex() + ": no allowed key for that id");
    return false;
}

bool reactor::secure_client(zmq::socket_t& s, const node_id& peer) {
    if (!may_dial(peer)) return false;
    if (!secured()) return true;
    const auto key = allow_->key_for(peer);
    s.set(zmq::sockopt::curve_serverkey, z85_of(*key));
    s.set(zmq::sockopt::curve_publickey, public_key_);
    s.set(zmq::sockopt::curve_secretkey, secret_key_);
    return true;
}

void reactor::on_zap() {
    for (int i = 0; i < max_batch; ++i) {
        // [version "1.0"][request id][domain][address][routing id][mechanism][credentials...]
        std::vector<zmq::message_t> request;
        zmq::message_t part;
        if (!zap_.recv(part, zmq::recv_flags::dontwait)) return;
        request.push_back(std::move(part));
        while (request.back().more()) {
            zmq::message_t next;
            (void)zap_.recv(next);
            request.push_back(std::move(next));
        }
        bool allowed = false;
        std::string user;
        if (request.size() >= 7 && request[0].to_string_view() == "1.0" &&
            request[5].to_string_view() == "CURVE" && request[6].size() == 32) {
            curve_key key;
            std::memcpy(key.data(), request[6].data(), key.size());
            user = z85_of(key);
            allowed = allow_ && allow_->allows(key);
        }
        if (!allowed) {
            ++stats_.zap_denied;
            warn_once("zap " + user, log_level::warn,
                      "refused a connection from " +
                          (request.size() > 3 ? request[3].to_string() : std::string("?")) +
                          (user.empty() ? ": not CURVE (a plain node?)" : ": key " + user + " is not allowed"));
        }
        const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
        const std::string status = allowed ? "200" : "400";
        const std::string text = allowed ? "OK" : "key not allowed";
        zap_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
        zap_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
        zap_.send(zmq::buffer(status), zmq::send_flags::sndmore);
        zap_.send(zmq::buffer(text), zmq::send_flags::sndmore);
        // The user id travels with every message of the connection ("User-Id"): the key.
        zap_.send(zmq::buffer(allowed ? user : std::string()), zmq::send_flags::sndmore);
        zap_.send(zmq::str_buffer(""), zmq::send_flags::none);
    }
}

bool reactor::key_matches(const std::optional<node_id>& claimed, zmq::message_t& frame) {
    if (!secured()) return true;
    const char* user = zmq_msg_gets(frame.handle(), "User-Id");
    const auto key = user ? decode_key(user) : std::nullopt;
    if (key) note_router_connection(frame, *key);   // to cut it if the key is revoked
    if (key && claimed && id_holds_key(*claimed, *key)) return true;
    ++stats_.frames_key_mismatch;
    warn_once("mismatch " + std::string(user ? user : ""), log_level::warn,
              "dropped frames from key " + std::string(user ? user : "?") +
                  " claiming another node's id");
    return false;
}

void reactor::reload_allowlist(clock::time_point now) {
    if (!secured() || opts_.allow_dir.empty() || now < next_allow_reload_) return;
    // Often: a revoked key is cut off within a second of its file's removal. A look costs
    // a directory listing.
    next_allow_reload_ = now + std::chrono::milliseconds(250);
    std::vector<std::string> skipped;
    if (!allow_->reload(&skipped)) return;
    for (const auto& f : skipped) log(log_level::warn, "allow directory: " + f + " holds no key");
    log(log_level::info, "allowlist now has " + std::to_string(allow_->size()) + " keys");
    warned_.clear();
    // A revoked member is dropped now and never dialled again; nothing more of it is
    // delivered (no drain, unlike a member that leaves) and every connection of its key is
    // cut, ours to it and its to us.
    std::vector<node_id> revoked;
    for (const auto& [id, p] : table_.all())
        if (!allow_->key_for(id)) revoked.push_back(id);
    for (const auto& id : revoked) {
        const auto* p = table_.find(id);
        const std::string pub_endpoint = p->pub_endpoint;
        drop_peer(id, leave_reason::revoked);
        stop_events_now(id, pub_endpoint);
    }
    cut_revoked_connections();
}

void reactor::warn_once(const std::string& what, log_level level, const std::string& text) {
    // A line this node does not log takes no place: routine causes at debug (a handshake
    // cut short) would otherwise fill the set and clear it, and warnings would come again.
    if (!log_.enabled(level)) return;
    if (warned_.size() > 1000) warned_.clear();   // bounded, whatever strangers try
    if (warned_.insert(what).second) log(level, text);
}

}  // namespace zmesh::detail
