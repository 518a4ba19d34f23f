// SPDX-License-Identifier: MPL-2.0
// lent_string: the names a node lends its callbacks and handlers. Whatever they keep (a copy
// of the reply or request) must hold its own string, unchanged when the node's changes.
#include <zmesh/lent_string.hpp>
#include <zmesh/rpc.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace zmesh::test {
namespace {

template <class S>
concept lendable = requires(S&& s) { lent_string::lend(std::forward<S>(s)); };
// A temporary would be gone before the lent string is read.
static_assert(lendable<const std::string&> && lendable<std::string&>);
static_assert(!lendable<std::string> && !lendable<const char*>);

TEST(lent_string, a_lent_string_reads_the_original_and_a_copy_owns_its_own) {
    std::string original = "bench-server";
    const auto lent = lent_string::lend(original);
    EXPECT_EQ(&lent.get(), &original);   // lent: no copy made

    const lent_string copied = lent;   // NOLINT: the copy is the point
    lent_string assigned("x");
    assigned = lent;
    original = "renamed, and long enough to leave the small-string buffer";
    EXPECT_EQ(lent.get(), original);
    EXPECT_EQ(copied.get(), "bench-server");
    EXPECT_EQ(assigned.get(), "bench-server");
}

TEST(lent_string, a_move_keeps_what_it_had_lent_or_owned) {
    std::string original = "bench-server";
    lent_string lent = lent_string::lend(original);
    const lent_string moved_lent(std::move(lent));
    EXPECT_EQ(&moved_lent.get(), &original);   // still lent, no copy made

    lent_string owned(std::string(40, 'o'));   // past the small-string buffer
    const auto* bytes = owned.get().data();
    lent_string moved_owned(std::move(owned));
    EXPECT_EQ(moved_owned.get(), std::string(40, 'o'));
    EXPECT_EQ(moved_owned.get().data(), bytes);   // the string moved, not copied

    lent_string assigned("x");
    assigned = lent_string::lend(original);
    EXPECT_EQ(&assigned.get(), &original);
    assigned = std::move(moved_owned);
    EXPECT_EQ(assigned.get(), std::string(40, 'o'));
}

TEST(lent_string, replies_and_requests_copied_from_lent_ones_keep_their_names) {
    std::string peer_name = "caller-1", method = "stock.reserve";
    const std::uint8_t nil[] = {0xc0};
    const reply lent_reply(node_id(), lent_string::lend(peer_name), nil, nullptr);
    const request lent_request(lent_string::lend(method), node_id(), lent_string::lend(peer_name),
                               {}, nil, nullptr);
    const reply kept_reply = lent_reply;
    const request kept_request = lent_request;
    peer_name.assign(40, 'z');   // the node's entry changes, or goes
    method.assign(40, 'y');
    EXPECT_EQ(kept_reply.from_name(), "caller-1");
    EXPECT_EQ(kept_request.caller_name(), "caller-1");
    EXPECT_EQ(kept_request.method(), "stock.reserve");
    EXPECT_EQ(lent_reply.from_name(), peer_name);

    const reply owned(node_id(), "server-2", nil, nullptr);   // as an application makes one
    EXPECT_EQ(reply(owned).from_name(), "server-2");
}

}  // namespace
}  // namespace zmesh::test
