// SPDX-License-Identifier: MPL-2.0
// security: CURVE options, the ZAP handler, the sender and beacon checks, reloads.
#include "security.hpp"

#include "node/key_ids.hpp"
#include "protocol/limits.hpp"

#include <zmesh/keys.hpp>

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

std::optional<zap_request> read_zap_request(const std::vector<std::string>& frames) {
    // [version "1.0"][request id][domain][address][routing id][mechanism][credentials...]
    if (frames.size() < 6 || frames[0] != "1.0") return std::nullopt;
    zap_request r{frames[1], frames[3], frames[5], std::nullopt};
    if (r.mechanism == "CURVE" && frames.size() >= 7 && frames[6].size() == 32) {
        curve_key key;
        std::memcpy(key.data(), frames[6].data(), key.size());
        r.key = key;
    }
    return r;
}

security::security(node_context& ctx, zmq::context_t& net)
    : ctx_(ctx), replays_(4 * protocol::max_peers_per_list) {
    if (ctx_.opts.secret_key.empty()) return;
    allow_.emplace(ctx_.opts.allowed_keys, ctx_.opts.allow_dir);
    // Both are 40 characters of Z85: only the allowlist tells a public key given by mistake.
    if (allow_->allows(*decode_key(ctx_.opts.secret_key)))
        throw std::runtime_error("secret key: this is a public key, not a secret key (it is on the allowlist; "
                                 "a node's secret key is in its NAME.key file)");
    secret_key_ = ctx_.opts.secret_key;
    public_key_ = public_key_of(secret_key_);
    zap_ = zmq::socket_t(net, zmq::socket_type::rep);
    zap_.set(zmq::sockopt::linger, 0);
    zap_.bind(zap_endpoint);
}

void security::secure_server(zmq::socket_t& s) const {
    if (!secured()) return;
    s.set(zmq::sockopt::curve_server, 1);
    s.set(zmq::sockopt::curve_secretkey, secret_key_);
    s.set(zmq::sockopt::zap_domain, "zmesh");
}

bool security::may_dial(const protocol::node_id& peer) {
    if (allows(peer)) return true;
    ++ctx_.stats.peers_not_allowed;
    ctx_.warn_once("peer " + peer.hex(), log_level::info,
                   "not dialling " + peer.short_hex() + ": no allowed key for that id");
    return false;
}

bool security::secure_client(zmq::socket_t& s, const protocol::node_id& peer) {
    if (!may_dial(peer)) return false;
    if (!secured()) return true;
    s.set(zmq::sockopt::curve_serverkey, z85_of(*allow_->key_for(peer)));
    s.set(zmq::sockopt::curve_publickey, public_key_);
    s.set(zmq::sockopt::curve_secretkey, secret_key_);
    return true;
}

void security::secure_probe(zmq::socket_t& s, const std::string& seed_key, const std::string& endpoint) const {
    if (seed_key.empty()) return;
    // The probe proves the seed holds that key; the seed checks ours (ZAP) and that the
    // HELLO names our own id. Its routing id is libzmq's: the link we open on hearing back
    // takes our id there.
    s.set(zmq::sockopt::curve_serverkey, seed_key);
    s.set(zmq::sockopt::curve_publickey, public_key_);
    s.set(zmq::sockopt::curve_secretkey, secret_key_);
    if (!allow_->allows(*decode_key(seed_key)))
        ctx_.log(log_level::warn, "seed " + endpoint + ": its key is not on the allowlist, so its answer will be refused");
}

void security::on_zap() {
    for (int i = 0; i < 256; ++i) {
        std::vector<std::string> frames;
        zmq::message_t part;
        if (!zap_.recv(part, zmq::recv_flags::dontwait)) return;
        frames.push_back(part.to_string());
        while (part.more()) {
            (void)zap_.recv(part);
            frames.push_back(part.to_string());
        }
        const auto request = read_zap_request(frames);
        const bool allowed = request && request->key && allow_->allows(*request->key);
        const std::string user = request && request->key ? z85_of(*request->key) : "";
        if (!allowed) {
            ++ctx_.stats.zap_denied;
            ctx_.warn_once("zap " + user, log_level::warn,
                           "refused a connection from " + (request ? request->address : std::string("?")) +
                               (user.empty() ? ": not CURVE (a plain node?)" : ": key " + user + " is not allowed"));
        }
        zap_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
        zap_.send(zmq::buffer(request ? request->request_id : std::string()), zmq::send_flags::sndmore);
        zap_.send(zmq::buffer(std::string_view(allowed ? "200" : "400")), zmq::send_flags::sndmore);
        zap_.send(zmq::buffer(std::string_view(allowed ? "OK" : "key not allowed")), zmq::send_flags::sndmore);
        // The user id travels with every message of the connection ("User-Id"): the key.
        zap_.send(zmq::buffer(allowed ? user : std::string()), zmq::send_flags::sndmore);
        zap_.send(zmq::str_buffer(""), zmq::send_flags::none);
    }
}

bool security::admits(const std::optional<protocol::node_id>& claimed, zmq::message_t& frame,
                      std::optional<curve_key>& key) {
    if (!secured()) return true;
    const char* user = zmq_msg_gets(frame.handle(), "User-Id");
    key = user ? decode_key(user) : std::nullopt;
    if (key && claimed && id_holds_key(*claimed, *key)) return true;
    ++ctx_.stats.frames_key_mismatch;
    ctx_.warn_once("mismatch " + std::string(user ? user : ""), log_level::warn,
                   "dropped frames from key " + std::string(user ? user : "?") +
                       " claiming another node's id");
    return false;
}

bool security::reload(clock::time_point now) {
    if (!secured() || ctx_.opts.allow_dir.empty() || now < next_reload_) return false;
    // Often: a revoked key is cut off within a second of its file's removal. A look costs
    // a directory listing.
    next_reload_ = now + std::chrono::milliseconds(250);
    std::vector<std::string> skipped;
    if (!allow_->reload(&skipped)) return false;
    for (const auto& f : skipped) ctx_.log(log_level::warn, "allow directory: " + f + " holds no key");
    ctx_.log(log_level::info, "allowlist now has " + std::to_string(allow_->size()) + " keys");
    ctx_.forget_warnings();
    return true;
}

bool security::beacon_authentic(const protocol::beacon& b, std::span<const std::uint8_t> datagram,
                                std::uint64_t wall_us, clock::time_point now) {
    const auto& secret_text = ctx_.opts.mesh_secret;
    if (secret_text.empty()) return true;
    const auto secret = std::span(reinterpret_cast<const std::uint8_t*>(secret_text.data()), secret_text.size());
    if (!b.is_signed || !protocol::beacon_mac_ok(datagram, secret)) {
        ++ctx_.stats.beacons_unauthenticated;
        ctx_.warn_once("beacon " + b.id.hex(), log_level::warn,
                       "dropped " + std::string(b.is_signed ? "a forged" : "an unsigned") +
                           " beacon claiming to be " + b.name + " (" + b.id.short_hex() + ")");
        return false;
    }
    if (replays_.fresh(b.id, b.sent_us, wall_us, now)) return true;
    ++ctx_.stats.beacons_replayed;
    return false;
}

}  // namespace zmesh::detail
