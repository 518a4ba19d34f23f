// SPDX-License-Identifier: MPL-2.0
// by_name: a map by name that remembers its last hit. Whatever is erased or cleared must
// never be found again through that memory.
#include "node/by_name.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

using detail::by_name;

TEST(by_name, finds_each_name_again_and_again_and_misses_the_unknown) {
    by_name<int> m;
    m["stock.reserve"] = 1;
    m.emplace("stock.release", 2);
    for (int round = 0; round < 3; ++round) {
        ASSERT_NE(m.find("stock.reserve"), m.end());
        EXPECT_EQ(m.find("stock.reserve")->second, 1);
        EXPECT_EQ(m.find("stock.release")->second, 2);
        EXPECT_EQ(m.find("stock.res"), m.end());   // a prefix of the last hit is not it
        EXPECT_EQ(m.find(""), m.end());
    }
    m["stock.reserve"] = 3;   // replaced in place, the remembered hit still right
    EXPECT_EQ(m.find("stock.reserve")->second, 3);
    EXPECT_EQ(m.size(), 2u);
}

TEST(by_name, an_erased_or_cleared_name_is_not_found_through_the_last_hit) {
    by_name<std::string> m;
    m["a"] = std::string(40, 'a');
    m["b"] = "b";
    ASSERT_NE(m.find("a"), m.end());   // now the last hit
    EXPECT_EQ(m.erase("a"), 1u);
    EXPECT_EQ(m.find("a"), m.end());
    EXPECT_EQ(m.erase("a"), 0u);
    EXPECT_EQ(m.find("b")->second, "b");
    m.clear();
    EXPECT_EQ(m.find("b"), m.end());
    EXPECT_EQ(m.size(), 0u);
    m["b"] = "again";
    EXPECT_EQ(m.find("b")->second, "again");
}

TEST(by_name, iterates_in_name_order) {
    by_name<int> m;
    m["c"] = 3;
    m["a"] = 1;
    m["b"] = 2;
    std::string names;
    for (const auto& [name, value] : static_cast<const by_name<int>&>(m)) names += name;
    EXPECT_EQ(names, "abc");
}

}  // namespace
}  // namespace zmesh::test
