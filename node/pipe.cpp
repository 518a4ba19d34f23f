// SPDX-License-Identifier: MPL-2.0
// pipe: the shared inproc context and per-thread command sockets.
#include "pipe.hpp"

#include <pthread.h>

#include <unordered_map>

namespace zmesh::detail {

zmq::context_t& pipe_context() {
    // Leaked on purpose: destroying it at exit would block on sockets still cached by
    // threads that outlive main's objects.
    static auto* ctx = [] {
        auto* c = new zmq::context_t(0);   // inproc needs no I/O thread
        // One command socket per (thread, node) pair, plus a few per node. libzmq allocates
        // and zeroes a slot table for the maximum up front, so its default maximum costs
        // every process memory it never uses; this is still far more than the threads that
        // use a node at once.
        c->set(zmq::ctxopt::max_sockets, 8192);
        return c;
    }();
    return *ctx;
}

void name_this_thread(const char* name) {
    ::pthread_setname_np(::pthread_self(), name);   // fails only for names over 15 bytes
}

std::string unique_inproc(const char* what) {
    static std::atomic<std::uint64_t> counter{0};
    return std::string("inproc://zmesh-") + what + "-" + std::to_string(++counter);
}

namespace {
std::atomic<std::uint64_t> next_serial{1};

struct cached_socket {
    zmq::socket_t socket;
    std::shared_ptr<std::atomic<bool>> alive;
};

// Keyed by command_sender serial. Entries of stopped nodes are swept when a new one is made.
thread_local std::unordered_map<std::uint64_t, cached_socket> thread_sockets;
}  // namespace

command_sender::command_sender(std::string endpoint, int send_hwm)
    : endpoint_(std::move(endpoint)),
      send_hwm_(send_hwm),
      serial_(next_serial++),
      alive_(std::make_shared<std::atomic<bool>>(true)) {}

command_sender::~command_sender() { alive_->store(false); }

zmq::socket_t& command_sender::socket() const {
    auto it = thread_sockets.find(serial_);
    if (it != thread_sockets.end()) return it->second.socket;
    std::erase_if(thread_sockets, [](const auto& kv) { return !kv.second.alive->load(); });
    zmq::socket_t s(pipe_context(), zmq::socket_type::push);
    s.set(zmq::sockopt::linger, 0);
    // Commands block for room (they are few); publishes fail fast when the queue is full.
    s.set(zmq::sockopt::sndhwm, send_hwm_);
    s.connect(endpoint_);
    return thread_sockets.emplace(serial_, cached_socket{std::move(s), alive_})
        .first->second.socket;
}

}  // namespace zmesh::detail
