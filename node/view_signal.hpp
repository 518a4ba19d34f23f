// SPDX-License-Identifier: MPL-2.0
// view_signal: how a thread waiting on the mesh (node::wait_for_peers and its kin) hears that
// the reactor's view of it changed, so it asks for a snapshot only then, never on a timer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace zmesh::detail {

class view_signal {
public:
    using clock = std::chrono::steady_clock;

    // The reactor's side: a peer joined, left, changed state or services, or told its
    // subscriptions. Any thread.
    void changed() {
        {
            std::lock_guard lock(mutex_);
            ++generation_;
        }
        changed_.notify_all();
    }
    // The reactor stopped: nothing will change again, so waiters give up at once.
    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        changed_.notify_all();
    }

    // The waiters' side. Read before taking a snapshot: a change after the snapshot then
    // shows as a generation other than this one.
    std::uint64_t generation() const {
        std::lock_guard lock(mutex_);
        return generation_;
    }
    // Waits until the generation is no longer `seen`, or `deadline`. Returns: false when
    // closed or the deadline passed with no change.
    bool wait_change(std::uint64_t seen, clock::time_point deadline) {
        std::unique_lock lock(mutex_);
        return changed_.wait_until(lock, deadline, [&] { return closed_ || generation_ != seen; }) && !closed_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::uint64_t generation_ = 0;
    bool closed_ = false;
};

}  // namespace zmesh::detail
