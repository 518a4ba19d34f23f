// SPDX-License-Identifier: MPL-2.0
// receipt: zmesh sub says what came and what did not, why it ended short, and exits 1 then.
#include "tools/receipt.hpp"

#include <gtest/gtest.h>

namespace zmesh::test {
namespace {

TEST(receipt, a_full_count_without_gaps_exits_zero_with_one_line) {
    const cli::receipt r{100, 100, 0, 0, false, false, false};
    EXPECT_EQ(cli::report(r), "received 100 of 100 event(s), 0 gap(s) (events missed), 0 invalid\n");
    EXPECT_EQ(cli::exit_status(r), 0);
}

TEST(receipt, publishers_that_left_short_of_count_leave_the_rest_not_received) {
    cli::receipt r{100000, 1000, 57, 0, false, false, true};
    EXPECT_EQ(cli::report(r), "received 1000 of 100000 event(s), 57 gap(s) (events missed), 0 invalid\n"
                              "zmesh sub: error: every publisher left short of --count: 99000 of 100000 event(s) "
                              "not received; 57 missed in gaps\n");
    EXPECT_EQ(cli::exit_status(r), 1);
    r.received = r.wanted;   // the count came after all, as they left
    EXPECT_EQ(cli::report(r).find("left short"), std::string::npos) << cli::report(r);
}

TEST(receipt, interrupted_or_timed_out_short_of_count_says_so) {
    cli::receipt r{5, 3, 0, 0, false, true, false};
    EXPECT_NE(cli::report(r).find("zmesh sub: error: interrupted with 3 of 5 event(s)\n"), std::string::npos);
    EXPECT_EQ(cli::exit_status(r), 1);
    r.interrupted = false;
    r.timed_out = true;
    EXPECT_NE(cli::report(r).find("timed out with 3 of 5"), std::string::npos);
}

TEST(receipt, gaps_without_a_count_exit_one) {
    const cli::receipt r{0, 10, 2, 0, false, true, false};
    EXPECT_EQ(cli::report(r), "received 10 event(s), 2 gap(s) (events missed), 0 invalid\n"
                              "zmesh sub: error: 2 event(s) missed, 0 invalid\n");
    EXPECT_EQ(cli::exit_status(r), 1);
}

}  // namespace
}  // namespace zmesh::test
