// SPDX-License-Identifier: MPL-2.0
// churn: 20 node slots on one mesh, nodes started and stopped at random for a while (10 s in
// ctest; ZMESH_CHURN_SECONDS=60 for the long run). At the end every survivor's table lists
// exactly the other survivors, and once all are stopped this process holds as many file
// descriptors as after the first node, and about as much memory: nothing leaks across node
// lifetimes.
#include "node_fixture.hpp"
#include "support/process.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>

namespace zmesh::test {
namespace {

std::size_t open_fds() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

std::chrono::seconds churn_time() {
    const char* s = std::getenv("ZMESH_CHURN_SECONDS");
    return std::chrono::seconds(s ? std::max(1, std::atoi(s)) : 10);
}

TEST_F(node_fixture, twenty_nodes_churning_agree_on_the_survivors_and_leak_no_descriptors) {
    constexpr std::size_t slots = 20;
    {
        // Warm-up: what lives as long as the process (libzmq's shared inproc context, the
        // resolver) is opened by the first node, not leaked by later ones.
        node warm(make_options("warm-up"));
        warm.start();
    }
    const auto fds_before = open_fds();
    const auto rss_before = rss_kib(::getpid());
    std::vector<std::unique_ptr<node>> mesh(slots);
    std::mt19937 rng(7);
    std::size_t started = 0, stopped = 0;
    const auto options_for = [&](std::size_t slot) {
        auto o = make_options("n" + std::to_string(slot) + "-" + std::to_string(started));
        o.rpc_workers = 1;   // 20 nodes on 2 cores: keep the thread count sane
        return o;
    };
    const auto end = std::chrono::steady_clock::now() + churn_time();
    while (std::chrono::steady_clock::now() < end) {
        auto& n = mesh[rng() % slots];
        if (n) {
            n->stop();
            n.reset();
            ++stopped;
        } else {
            n = std::make_unique<node>(options_for(&n - mesh.data()));
            n->start();
            ++started;
        }
        // Let the mesh see some of it happen: changes land mid-handshake and mid-join.
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 60));
    }
    std::vector<std::string> survivors;
    for (const auto& n : mesh)
        if (n) survivors.push_back(n->name());
    std::sort(survivors.begin(), survivors.end());
    ASSERT_GT(started, 20u);
    ASSERT_GT(stopped, 10u);
    // Every survivor sees exactly the others: no ghost of a stopped node, no one missing.
    EXPECT_TRUE(wait_until([&] {
        for (const auto& n : mesh) {
            if (!n) continue;
            auto expected = survivors;
            std::erase(expected, n->name());
            if (joined_names(*n) != expected) return false;
            if (n->peers().size() != expected.size()) return false;   // nothing half-there either
        }
        return true;
    }, 15s)) << survivors.size() << " survivors after " << started << " starts, " << stopped << " stops";
    std::printf("churn: %zu starts, %zu stops, %zu survivors agree\n", started, stopped, survivors.size());
    mesh.clear();
    {
        // A thread keeps its command socket to a stopped node until it next opens one to
        // another node (pipe.cpp): the same warm-up again sweeps them.
        node sweep(make_options("sweep"));
        sweep.start();
    }
    EXPECT_TRUE(wait_until([&] { return open_fds() <= fds_before; }, 5s))
        << open_fds() << " descriptors open, " << fds_before << " before";
    // The allocator keeps some freed memory, so only a real leak (hundreds of KiB per node
    // lifetime) can pass this bound; the figure is printed for RELIABILITY.md.
    const auto rss_after = rss_kib(::getpid());
    std::printf("churn: RSS %llu KiB after the first node, %llu KiB after all\n",
                static_cast<unsigned long long>(rss_before), static_cast<unsigned long long>(rss_after));
#if defined(__SANITIZE_ADDRESS__)
    // ASan holds freed memory in quarantine (256 MiB): RSS says nothing about leaks there;
    // its own leak check at exit does.
#else
    EXPECT_LT(rss_after, rss_before + 48 * 1024) << "KiB";
#endif
}

}  // namespace
}  // namespace zmesh::test
