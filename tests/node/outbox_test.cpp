// SPDX-License-Identifier: MPL-2.0
// outbox: what goes to the delivery thread goes in the order it happened, batched: events
// read before a call's outcome are handled before it, and both before a peer event.
#include "node/outbox.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zmesh::detail {
namespace {

class outbox_order : public ::testing::Test {
protected:
    shared_counters counters_;
    std::vector<std::string> sent_;   // what the delivery thread would read, in order
    outbox out_{[this](delivery&& d) { sent_.push_back(describe(d)); }, counters_};

    static std::string describe(const delivery& d) {
        if (const auto* b = std::get_if<event_batch>(&d)) return "events " + std::to_string(b->events.size());
        if (const auto* c = std::get_if<call_batch>(&d)) return "calls " + std::to_string(c->calls.size());
        if (std::holds_alternative<peer_event>(d)) return "peer";
        return "other";
    }
    void event() { out_.events().emplace_back(); }
    void outcome() { out_.completion({[](const call_result&) {}, call_result(rpc_error(rpc_errc::timeout, "t"))}); }
};

TEST_F(outbox_order, nothing_goes_until_flushed_and_then_in_one_batch_each) {
    event();
    event();
    EXPECT_TRUE(sent_.empty());
    out_.flush();
    EXPECT_EQ(sent_, (std::vector<std::string>{"events 2"}));
    EXPECT_EQ(counters_.pending_events.load(), 2);
    out_.flush();
    EXPECT_EQ(sent_.size(), 1u) << "an empty flush sends nothing";
}

TEST_F(outbox_order, an_outcome_follows_the_events_read_before_it_and_precedes_later_ones) {
    event();
    outcome();
    outcome();
    event();
    out_.flush();
    EXPECT_EQ(sent_, (std::vector<std::string>{"events 1", "calls 2", "events 1"}));
}

TEST_F(outbox_order, a_peer_event_follows_everything_queued_before_it) {
    outcome();
    event();
    out_.send(peer_event{});
    EXPECT_EQ(sent_, (std::vector<std::string>{"calls 1", "events 1", "peer"}));
}

}  // namespace
}  // namespace zmesh::detail
