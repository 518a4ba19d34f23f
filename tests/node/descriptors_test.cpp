// SPDX-License-Identifier: MPL-2.0
// descriptors: a node raises its soft descriptor limit to the hard one, and says in one line
// when max_peers needs more than that.
#include "node/descriptors.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

namespace zmesh::detail {
namespace {

TEST(descriptors, max_peers_that_fit_the_limit_say_nothing) {
    EXPECT_FALSE(descriptor_shortfall(1024, descriptors_of_a_node + descriptors_per_peer * 1024));
    EXPECT_FALSE(descriptor_shortfall(8, 256));
}

TEST(descriptors, max_peers_past_the_limit_say_how_many_fit_and_what_to_do) {
    const auto line = descriptor_shortfall(1024, 1024);
    ASSERT_TRUE(line);
    EXPECT_NE(line->find("max_peers 1024 needs about 4160"), std::string::npos) << *line;
    EXPECT_NE(line->find("only 1024"), std::string::npos) << *line;
    EXPECT_NE(line->find("about 240 peers fit"), std::string::npos) << *line;
    EXPECT_NE(line->find("--max-peers"), std::string::npos) << *line;
    EXPECT_EQ(line->find('\n'), std::string::npos) << "one line";
    EXPECT_NE(descriptor_shortfall(10, 3)->find("about 0 peers fit"), std::string::npos);
}

TEST(descriptors, soft_limit_is_raised_to_the_hard_one) {
    rlimit original{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
    if (original.rlim_max < 2) GTEST_SKIP() << "hard limit too low to lower the soft one";
    rlimit lowered = original;
    lowered.rlim_cur = original.rlim_max / 2;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
    const auto limit = raise_descriptor_limit();
    ASSERT_TRUE(limit);
    EXPECT_EQ(limit->before, lowered.rlim_cur);
    EXPECT_EQ(limit->now, original.rlim_max);
    rlimit after{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
    EXPECT_EQ(after.rlim_cur, original.rlim_max);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &original), 0);
}

}  // namespace
}  // namespace zmesh::detail
