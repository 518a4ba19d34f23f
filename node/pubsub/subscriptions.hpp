// SPDX-License-Identifier: MPL-2.0
// subscriptions: what this node's application subscribed to — each subscription's prefix and
// where its handler runs (the delivery thread, or the reactor, which keeps the handler here)
// — and the distinct prefixes they make, counted, which become the SUB's filters and our
// SUBS. Pure state: the subscriber sets the filters and tells peers when a prefix comes or
// goes.
#pragma once

#include <zmesh/event.hpp>
#include <zmesh/node.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zmesh::detail {

class subscriptions {
public:
    // Adds subscription `id` on `prefix`; `handler` is kept when it runs on the reactor.
    // Returns: whether `prefix` is new (the SUB needs its filter, peers our new SUBS).
    bool add(subscription_id id, const std::string& prefix, run_on where, event_handler handler = {});

    struct removed {
        std::string prefix;
        run_on where;
        bool last_of_prefix;   // its filter goes, and peers hear our SUBS without it
    };
    // Returns: what subscription `id` was, or nothing for an id not held.
    std::optional<removed> remove(subscription_id id);

    // Returns: whether some subscription takes `topic`; one whose handler runs on the
    // delivery thread; one whose handler runs on the reactor.
    bool wants(std::string_view topic) const { return any_prefix_of(prefixes_, topic); }
    bool wants_on_threads(std::string_view topic) const { return any_prefix_of(thread_prefixes_, topic); }
    bool any() const noexcept { return !prefixes_.empty(); }
    bool any_on_reactor() const noexcept { return !reactor_.empty(); }
    // Returns: whether some topic could both start with `published` (a prefix a member
    // publishes under) and be taken by a subscription.
    bool meets(std::string_view published) const;
    // Returns: the distinct prefixes, sorted (our SUBS).
    std::vector<std::string> prefixes() const;

    // Runs `run(handler)` for each reactor handler whose prefix takes `topic`. Whatever a
    // handler asks of the node is posted, so the table holds still meanwhile.
    template <class Run>
    void for_reactor_handlers(std::string_view topic, Run&& run) const {
        for (const auto& s : reactor_)
            if (topic.starts_with(s.prefix)) run(s.handler);
    }

private:
    static bool any_prefix_of(const std::map<std::string, int, std::less<>>& prefixes, std::string_view topic);

    struct place {
        std::string prefix;
        run_on where;
    };
    struct on_reactor {
        subscription_id id;
        std::string prefix;
        event_handler handler;
    };
    std::map<std::string, int, std::less<>> prefixes_;          // all, counted
    std::map<std::string, int, std::less<>> thread_prefixes_;   // the delivery thread's, counted
    std::unordered_map<subscription_id, place> by_id_;
    std::vector<on_reactor> reactor_;
};

}  // namespace zmesh::detail
