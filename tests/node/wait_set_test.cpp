// SPDX-License-Identifier: MPL-2.0
// wait_set: the reactor's sleep. It must report exactly the descriptors with input, as
// poll(2) would, for as long as the input stays (level-triggered), and nothing once removed.
#include "node/wait_set.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <vector>

namespace zmesh::test {
namespace {

using detail::wait_set;

struct pipe_pair {
    int read = -1, write = -1;
    pipe_pair() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
        read = fds[0];
        write = fds[1];
    }
    ~pipe_pair() {
        ::close(read);
        ::close(write);
    }
    void put() const { EXPECT_EQ(::write(write, "x", 1), 1); }
    void take() const {
        char c;
        EXPECT_EQ(::read(read, &c, 1), 1);
    }
};

std::vector<std::uint64_t> ready(wait_set& w, int timeout_ms = 0, std::size_t room = 8) {
    std::vector<std::uint64_t> out(room);
    const auto got = w.wait(out, timeout_ms);
    std::vector<std::uint64_t> tags(got.begin(), got.end());
    std::sort(tags.begin(), tags.end());
    return tags;
}

TEST(wait_set, reports_the_tags_of_descriptors_with_input_while_it_lasts) {
    wait_set w;
    pipe_pair a, b;
    w.add(a.read, 7);
    w.add(b.read, (std::uint64_t{1} << 32) + 5);
    EXPECT_TRUE(ready(w).empty());   // nothing yet, and no wait
    a.put();
    EXPECT_EQ(ready(w, 1000), (std::vector<std::uint64_t>{7}));
    EXPECT_EQ(ready(w), (std::vector<std::uint64_t>{7}));   // not read: still ready
    b.put();
    EXPECT_EQ(ready(w), (std::vector<std::uint64_t>{7, (std::uint64_t{1} << 32) + 5}));
    a.take();
    b.take();
    EXPECT_TRUE(ready(w).empty());
}

TEST(wait_set, a_removed_descriptor_is_not_reported) {
    wait_set w;
    pipe_pair a;
    w.add(a.read, 1);
    a.put();
    w.remove(a.read);
    EXPECT_TRUE(ready(w).empty());
    w.add(a.read, 2);   // watched again, under another tag
    EXPECT_EQ(ready(w), (std::vector<std::uint64_t>{2}));
}

TEST(wait_set, more_ready_than_room_come_in_later_waits) {
    wait_set w;
    std::array<pipe_pair, 5> pipes;
    for (std::size_t i = 0; i < pipes.size(); ++i) {
        w.add(pipes[i].read, i);
        pipes[i].put();
    }
    std::vector<std::uint64_t> seen;
    for (int round = 0; round < 5 && seen.size() < pipes.size(); ++round)
        for (const auto tag : ready(w, 0, 2)) {
            if (std::find(seen.begin(), seen.end(), tag) == seen.end()) {
                seen.push_back(tag);
                pipes[tag].take();   // read: not ready again
            }
        }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
}

TEST(wait_set, adding_a_closed_descriptor_throws) {
    wait_set w;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_THROW(w.add(fds[0], 1), std::system_error);
}

}  // namespace
}  // namespace zmesh::test
