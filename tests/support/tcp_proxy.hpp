// SPDX-License-Identifier: MPL-2.0
// tcp_proxy: listens on one address and port, relays every connection to another, and
// keeps a copy of every byte that passed either way — so a test can look at the wire.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace zmesh::test {

class tcp_proxy {
public:
    // Listens on listen_host:port and relays to target_host:port. Throws std::runtime_error
    // when it cannot listen.
    tcp_proxy(const std::string& listen_host, const std::string& target_host, std::uint16_t port);
    ~tcp_proxy();   // closes everything and joins its thread
    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    // Returns: everything relayed so far, both directions mixed.
    std::string seen() const;

private:
    void run();

    std::string target_host_;
    std::uint16_t port_;
    int listener_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::string seen_;
    std::thread thread_;
};

}  // namespace zmesh::test
