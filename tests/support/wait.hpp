// SPDX-License-Identifier: MPL-2.0
// wait: poll a condition until it holds or a deadline passes. Tests never sleep blindly.
#pragma once

#include <chrono>
#include <thread>

namespace zmesh::test {

using namespace std::chrono_literals;

// Returns: true as soon as `condition()` holds, false if it still does not after `timeout`.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = 10ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(poll);
    }
}

}  // namespace zmesh::test
