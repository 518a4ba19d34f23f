// SPDX-License-Identifier: MPL-2.0
// seed_probes: one send-only connection per --seed, for where broadcast cannot pass. A probe
// carries our HELLO to the seed, which answers by dialling us; nothing is read from it.
#pragma once

#include "node/context.hpp"
#include "node/security/security.hpp"

#include <zmq.hpp>

#include <span>
#include <cstdint>
#include <vector>

namespace zmesh::detail {

class seed_probes {
public:
    // Connects a probe to every seed of the options. Throws zmq::error_t when libzmq refuses.
    seed_probes(node_context& ctx, zmq::context_t& net, const security& sec);

    bool empty() const noexcept { return probes_.empty(); }
    // Sends `frame` (our HELLO) to every seed that is connected now; counts the others.
    void send(std::span<const std::uint8_t> frame);
    void close() { probes_.clear(); }

private:
    node_context& ctx_;
    std::vector<zmq::socket_t> probes_;
};

}  // namespace zmesh::detail
