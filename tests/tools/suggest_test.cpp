// SPDX-License-Identifier: MPL-2.0
// suggest: a typo of a name the mesh knows gets that name as a hint; an unrelated name none.
#include "tools/suggest.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

TEST(suggest, swapped_neighbours_are_one_edit) {
    EXPECT_EQ(cli::edit_distance("tmie", "time"), 1u);
    EXPECT_EQ(cli::edit_distance("shp", "shop"), 1u);
    EXPECT_EQ(cli::edit_distance("", "abc"), 3u);
    EXPECT_EQ(cli::edit_distance("Time", "time"), 0u) << "case is not a typo";
    EXPECT_EQ(cli::edit_distance("kitten", "sitting"), 3u);
}

TEST(suggest, a_typo_gets_the_closest_names_and_an_unrelated_word_none) {
    const std::vector<std::string> methods = {"echo", "stats", "time", "orders.create"};
    EXPECT_EQ(cli::closest("tmie", methods), std::vector<std::string>{"time"});
    EXPECT_EQ(cli::closest("orders.craete", methods), std::vector<std::string>{"orders.create"});
    EXPECT_TRUE(cli::closest("inventory", methods).empty());
    EXPECT_TRUE(cli::closest("time", methods).empty()) << "the name itself is no suggestion";
    EXPECT_EQ(cli::closest("stat", {"stats", "state", "stats"}), (std::vector<std::string>{"stats", "state"}));
}

TEST(suggest, the_hint_reads_as_a_question) {
    EXPECT_EQ(cli::did_you_mean({}), "");
    EXPECT_EQ(cli::did_you_mean({"shop"}, "--mesh "), " (did you mean '--mesh shop'?)");
    EXPECT_EQ(cli::did_you_mean({"a", "b", "c"}), " (did you mean 'a', 'b' or 'c'?)");
    EXPECT_EQ(cli::list({"a", "b", "c"}, 2), "a, b, ... (1 more)");
}

}  // namespace
}  // namespace zmesh::test
