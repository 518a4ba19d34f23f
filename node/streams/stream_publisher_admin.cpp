// SPDX-License-Identifier: MPL-2.0
// stream_publisher, administration: what an administrator asks of a publisher's streams
// (their consumers, a dead letter sent back), apart from the delivery path.
#include "stream_publisher.hpp"

#include "protocol/stream_admin.hpp"

#include <map>

namespace zmesh::detail::streams {

std::vector<stream_publisher::consumer_state> stream_publisher::consumers(std::string_view stream) const {
    const auto s = store_->state(stream);
    if (!s) return {};
    std::map<std::string, consumer_state> by_name;
    // Known to the log: every name that ever consumed, with the position it keeps.
    for (const auto& [name, acked] : store_->positions(stream)) by_name[name] = {name, 0, acked};
    // Consumed in this run: the live figures.
    for (const auto& [key, g] : groups_) {
        if (key.first != stream) continue;
        auto& c = by_name[key.second];
        c.name = key.second;
        c.members = g.group.members();
        c.position = g.group.position();
        c.in_flight = g.group.in_flight();
        c.redeliveries = g.group.redeliveries();
        c.dead_letters = g.dead_letters;
    }
    std::vector<consumer_state> out;
    for (auto& [name, c] : by_name) {
        c.pending = s->last_seq > c.position ? s->last_seq - c.position : 0;
        out.push_back(std::move(c));
    }
    return out;
}

stream_publisher::requeue_result stream_publisher::requeue(std::string_view stream, std::uint64_t seq,
                                                           std::uint64_t now_us, clock::time_point now) {
    if (!store_->state(stream)) return requeue_result::no_stream;
    const std::string dlq = std::string(stream) + ".dlq";
    const auto records = store_->read(dlq, seq, 1, SIZE_MAX);
    if (records.empty() || records.front().seq != seq) return requeue_result::no_record;
    const auto body = protocol::admin::decode_dead_letter(records.front().payload);
    if (!body) return requeue_result::unreadable;
    // Appended, then erased (which commits both): a crash between the two leaves the message
    // in both streams, never in neither.
    store_->append(stream, now_us, records.front().key, body->payload);
    store_->erase(dlq, seq);
    commit(now);
    return requeue_result::done;
}

}  // namespace zmesh::detail::streams
