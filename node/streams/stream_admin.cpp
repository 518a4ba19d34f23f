// SPDX-License-Identifier: MPL-2.0
// stream_admin: each reserved method checked, carried out on the log and answered.
#include "stream_admin.hpp"

#include "protocol/msgpack_io.hpp"

namespace zmesh::detail {

namespace admin = protocol::admin;

namespace {

std::uint64_t wall_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

std::string dlq_of(std::string_view stream) { return std::string(stream) + ".dlq"; }

// Returns: the error of a parse, or null when it parsed.
template <class T>
const admin::error* error_of(const admin::parsed<T>& p) {
    return std::get_if<admin::error>(&p);
}

}  // namespace

stream_admin::stream_admin(node_context& ctx, durable_streams& streams, replier reply, event_publisher publish)
    : ctx_(ctx), streams_(streams), reply_(std::move(reply)), publish_(std::move(publish)) {}

void stream_admin::fail(const pending_reply& to, std::int64_t code, const std::string& message) {
    ++ctx_.stats.stream_admin_refused;
    reply_(to, code, message, {});
}

bool stream_admin::on_request(std::string_view method, std::span<const std::uint8_t> args, const pending_reply& to) {
    if (!admin::is_reserved(method)) return false;
    if (!streams_.publisher()) {
        fail(to, admin::no_data_dir, "node '" + ctx_.opts.name + "' has no data directory: it holds no streams");
        return true;
    }
    if (admin::is_write(method) && !ctx_.opts.stream_admin) {
        fail(to, admin::not_allowed,
             "node '" + ctx_.opts.name + "' does not allow stream administration from the mesh "
             "(options::stream_admin, zmesh-node --stream-admin)");
        return true;
    }
    try {
        if (method == admin::list_method) list(args, to);
        else if (method == admin::add_method) add(args, to);
        else if (method == admin::rm_method) remove(args, to);
        else if (method == admin::publish_method) publish(args, to);
        else if (method == admin::dlq_ls_method) dlq_list(args, to);
        else requeue(args, to);
    } catch (const std::exception& e) {   // the log failed: logged, counted, answered
        ctx_.log(log_level::error, "streams: " + std::string(method) + " failed: " + e.what());
        fail(to, admin::store_failed, std::string("the log failed: ") + e.what());
    }
    return true;
}

admin::stream_report stream_admin::report_of(const streams::stream_state& s) const {
    admin::stream_report r{s.config.name, s.config.prefix, s.config.limits.max_messages, s.config.limits.max_bytes,
                           static_cast<std::uint64_t>(s.config.limits.max_age.count()), s.first_seq, s.last_seq,
                           s.messages, s.bytes, {}};
    // A dead-letter stream takes no topics: its prefix is a NUL, shown as none.
    if (r.prefix.find('\0') != std::string::npos) r.prefix.clear();
    for (const auto& c : streams_.publisher()->consumers(s.config.name))
        r.consumers.push_back({c.name, c.members, c.position, c.pending, c.in_flight, c.redeliveries, c.dead_letters});
    return r;
}

void stream_admin::list(std::span<const std::uint8_t> args, const pending_reply& to) {
    const auto a = admin::decode_list(args);
    if (const auto* e = error_of(a)) return fail(to, e->code, e->message);
    const auto& q = std::get<admin::list_args>(a);
    auto* pub = streams_.publisher();
    std::vector<admin::stream_report> out;
    std::string more;
    if (!q.stream.empty()) {
        const auto s = pub->state(q.stream);
        if (!s) return fail(to, admin::no_such_stream, "no stream '" + q.stream + "' on node '" + ctx_.opts.name + "'");
        out.push_back(report_of(*s));
    } else {
        std::size_t bytes = 0;
        for (const auto& s : pub->streams()) {   // by name
            if (!q.after.empty() && s.config.name <= q.after) continue;
            auto r = report_of(s);
            bytes += admin::packed_size(r);
            if (!out.empty() && bytes > admin::max_reply_bytes) {
                more = out.back().name;   // the next page starts after it
                break;
            }
            out.push_back(std::move(r));
        }
    }
    ok(to, admin::encode_list(out, more));
}

void stream_admin::add(std::span<const std::uint8_t> args, const pending_reply& to) {
    const auto a = admin::decode_add(args);
    if (const auto* e = error_of(a)) return fail(to, e->code, e->message);
    const auto& q = std::get<admin::add_args>(a);
    auto* pub = streams_.publisher();
    if (!pub->state(q.name) && pub->streams().size() >= admin::max_streams)
        return fail(to, admin::too_many_streams,
                    "node '" + ctx_.opts.name + "' holds " + std::to_string(admin::max_streams) +
                        " streams (dead letters included), the most it takes");
    pub->declare({q.name, q.prefix, {q.max_messages, q.max_bytes, std::chrono::milliseconds(q.max_age_ms)}});
    ctx_.log(log_level::info, "streams: stream " + q.name + " (" + q.prefix + ") declared by a member");
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> p(b);
    admin::pack_stream(p, report_of(*pub->state(q.name)));
    ok(to, {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
}

void stream_admin::remove(std::span<const std::uint8_t> args, const pending_reply& to) {
    const auto a = admin::decode_rm(args);
    if (const auto* e = error_of(a)) return fail(to, e->code, e->message);
    const auto& name = std::get<admin::name_args>(a).name;
    auto* pub = streams_.publisher();
    if (!pub->remove(name))
        return fail(to, admin::no_such_stream, "no stream '" + name + "' on node '" + ctx_.opts.name + "'");
    // Its dead letters go with it: nothing could requeue them any more.
    const bool dead_letters = !name.ends_with(".dlq") && pub->remove(dlq_of(name));
    ctx_.log(log_level::info, "streams: stream " + name + " removed by a member");
    ok(to, admin::encode_counts({{"removed", 1}, {"dead_letters_removed", dead_letters ? 1 : 0}}));
}

void stream_admin::publish(std::span<const std::uint8_t> args, const pending_reply& to) {
    const auto a = admin::decode_publish(args, ctx_.opts.max_event_size);
    if (const auto* e = error_of(a)) return fail(to, e->code, e->message);
    const auto& q = std::get<admin::publish_args>(a);
    // Answered once stored: the node's reply is the publisher's promise.
    publish_(q.topic, q.payload, [this, to, live = live_](store_outcome o, const std::string& why) {
        if (!*live) return;
        if (o == store_outcome::stored) return ok(to, admin::encode_counts({{"stored", 1}}));
        fail(to, o == store_outcome::no_stream ? admin::no_stream_takes : admin::store_failed,
             why + " on node '" + ctx_.opts.name + "'");
    });
}

void stream_admin::dlq_list(std::span<const std::uint8_t> args, const pending_reply& to) {
    const auto a = admin::decode_dlq_ls(args);
    if (const auto* e = error_of(a)) return fail(to, e->code, e->message);
    const auto& q = std::get<admin::dlq_ls_args>(a);
    auto* pub = streams_.publisher();
    const auto dlq = pub->state(dlq_of(q.stream));
    if (!dlq && !pub->state(q.stream))
        return fail(to, admin::no_such_stream, "no stream '" + q.stream + "' on node '" + ctx_.opts.name + "'");
    // The reports view their payloads in these records: they live until the reply is encoded.
    std::vector<streams::record> records;
    std::vector<admin::dead_letter_report> page;
    std::optional<std::uint64_t> more;
    if (dlq) {
        records = pub->read(dlq_of(q.stream), q.from, static_cast<std::size_t>(q.max), admin::max_reply_bytes);
        std::size_t bytes = 0;
        for (const auto& r : records) {
            admin::dead_letter_report d{r.seq, 0, 0, r.time_us, {}, r.key, {}};
            if (const auto body = admin::decode_dead_letter(r.payload)) {
                d.original_seq = body->seq;
                d.attempts = body->attempts;
                d.error = body->error;
                if (!protocol::check_msgpack(body->payload)) d.payload = body->payload;
            } else {
                d.error = "unreadable dead letter";
            }
            bytes += admin::packed_size(d);
            if (!page.empty() && bytes > admin::max_reply_bytes) break;
            page.push_back(d);
        }
        if (!page.empty() && page.back().seq < dlq->last_seq) more = page.back().seq + 1;
    }
    ok(to, admin::encode_dlq_page(q.stream, dlq ? dlq->first_seq : 0, dlq ? dlq->last_seq : 0,
                                  dlq ? dlq->messages : 0, page, more));
}

void stream_admin::requeue(std::span<const std::uint8_t> args, const pending_reply& to) {
    const auto a = admin::decode_requeue(args);
    if (const auto* e = error_of(a)) return fail(to, e->code, e->message);
    const auto& q = std::get<admin::requeue_args>(a);
    auto* pub = streams_.publisher();
    if (!pub->state(q.stream))
        return fail(to, admin::no_such_stream, "no stream '" + q.stream + "' on node '" + ctx_.opts.name + "'");
    const auto dlq = dlq_of(q.stream);
    using result = streams::stream_publisher::requeue_result;
    std::uint64_t moved = 0;
    if (!q.all) {
        switch (pub->requeue(q.stream, q.seq, wall_us(), clock::now())) {
            case result::done: moved = 1; break;
            case result::no_record:
                return fail(to, admin::no_such_record, "no dead letter " + std::to_string(q.seq) + " in " + dlq);
            case result::unreadable:
                return fail(to, admin::store_failed, "dead letter " + std::to_string(q.seq) + " is unreadable");
            case result::no_stream: return fail(to, admin::no_such_stream, "no stream '" + q.stream + "'");
        }
    } else {
        // A bounded number per request, so that the reactor is not held long: the reply says
        // how many are left for the next one.
        std::uint64_t from = 1;
        while (moved < admin::max_requeue) {
            const auto page = pub->read(dlq, from, 100, admin::max_reply_bytes);
            if (page.empty()) break;
            for (const auto& r : page) {
                from = r.seq + 1;
                if (moved < admin::max_requeue && pub->requeue(q.stream, r.seq, wall_us(), clock::now()) == result::done)
                    ++moved;
            }
        }
    }
    const auto left = pub->state(dlq);
    ok(to, admin::encode_counts({{"requeued", moved}, {"left", left ? left->messages : 0}}));
}

}  // namespace zmesh::detail
