// SPDX-License-Identifier: MPL-2.0
// cli: what every zmesh tool shares: node flags, signal handling, JSON of peers, one-line errors.
#pragma once

#include <zmesh/keys.hpp>
#include <zmesh/node.hpp>
#include <zmesh/tuning.hpp>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace zmesh::cli {

namespace po = boost::program_options;

// Adds --name --mesh --beacon-port --beacon-interval --interface --advertise --seed --bind
// --pub-port --router-port --heartbeat --evasive --expire --hwm --max-peers --key --allow --mesh-secret
// --log-level to `desc`.
void add_node_flags(po::options_description& desc);

// Returns: options from the parsed flags. Throws std::invalid_argument on a bad value, and
// std::runtime_error for a secret key or mesh secret file that is missing, open to others or
// not a key.
options node_options(const po::variables_map& vm);

// Parses argv against `desc` (and `positional`, when given). Returns: the map, or exits:
// 0 after --help, 2 with "PROGRAM: error: ..." on stderr for a bad flag.
po::variables_map parse(int argc, char** argv, const po::options_description& desc,
                        const char* usage, const po::positional_options_description* positional = nullptr);

// Returns: duration flag `name` (declared as a string): a bare number counts in `unit`, the
// flag's own, as its help says; "250ms", "2s" or "1.5s" say their unit, which every duration
// flag of zmesh, zmesh-node and zmesh-monitor accepts. Throws std::invalid_argument when it
// is not one, is negative, or is over a year.
std::chrono::milliseconds duration_flag(const po::variables_map& vm, const char* name,
                                        std::chrono::milliseconds unit);

// Blocks SIGINT and SIGTERM in this thread and every thread it starts afterwards: call it
// first in main, then wait_for_signal() is the only place they arrive.
void block_signals();
// Returns: the signal that arrived (SIGINT/SIGTERM), or 0 when `timeout` passed first.
int wait_for_signal(std::chrono::milliseconds timeout);

nlohmann::json to_json(const peer_info& p);
// Every counter of node_stats (ZMESH_NODE_COUNTERS) as {"name": value}.
nlohmann::json to_json(const node_stats& s);
// One event as {"topic","sender":{"id","name"},"seq","sent_us","payload"}; a payload JSON
// cannot express (an ext type, a non-string map key) becomes "payload_error" instead.
nlohmann::json to_json(const event& e);

// Returns: the msgpack encoding of JSON text. Throws std::invalid_argument on bad JSON.
std::vector<std::uint8_t> json_to_msgpack(const std::string& text);

enum class wait_result { ready, timed_out, interrupted };

// Polls `n`'s joined members (observers aside) until `ready(members)` holds, `timeout`
// passes, or SIGINT/SIGTERM arrives. With `settle`, ready also waits until no peer is in
// handshake and the peer table has not changed for that long: what a node learns from its
// first peers (PEERS) is then in the view, so a name two members hold shows as two.
wait_result wait_for(const node& n, const std::function<bool(const std::vector<peer_info>&)>& ready,
                     std::chrono::milliseconds timeout,
                     std::chrono::milliseconds settle = std::chrono::milliseconds(0));

// Waits until `n` sees at least `count` members joined (observers aside) and, when
// `with_subscriptions`, knows their subscriptions, or `timeout` passes, or a signal comes.
// Returns: true when the members are there.
bool wait_for_members(const node& n, std::size_t count, std::chrono::milliseconds timeout,
                      bool with_subscriptions);

// Prints "PROGRAM: error: MESSAGE" on stderr and returns the exit code 1, for `return fail(..)`.
int fail(const char* program, const std::string& message);

}  // namespace zmesh::cli
