// SPDX-License-Identifier: MPL-2.0
// cli: what every zmesh tool shares: the command line (flags, environment, positional
// arguments, --help and --version), signal handling, JSON of peers and events, bodies given
// on the command line, tables of text, one-line errors.
#pragma once

#include <zmesh/keys.hpp>
#include <zmesh/node.hpp>
#include <zmesh/tuning.hpp>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace zmesh::cli {

namespace po = boost::program_options;

// The version of the tools: the project's (CMake PROJECT_VERSION).
extern const char* const version;

// A tool's command line, for parse().
struct command_spec {
    std::string program{};   // "zmesh pub": what errors and --version carry
    std::string usage{};     // "zmesh pub [options] TOPIC BODY"
    std::string about{};     // shown by --help under the usage line: what it does, its exits
    // The positional arguments, in order, named as in `usage`; a name ending in '?' may be
    // left out (only at the end). Anything past them is refused.
    std::vector<std::string> positionals{};
    bool node_flags = true;  // a node: the mesh flags (and the tuning ones) follow its own
    std::string log_level = "info";   // --log-level's default
};

struct command_line {
    po::variables_map vm;
    std::vector<std::string> args;   // the positional arguments, as many as the spec allows
};

// Parses argv: the spec's own options, then (for a node) the mesh flags (--mesh --name --seed
// --interface --beacon-port --key --allow --mesh-secret --log-level) and the node tuning
// flags (shown by --help-all). Long flags are matched whole: no prefix guessing.
// Returns: the map and the positional arguments, or exits: 0 after --help, --help-all or
// --version, 2 with "PROGRAM: error: ... (usage: ...)" on stderr for a bad flag, a missing
// argument or one too many.
command_line parse(int argc, char** argv, const command_spec& spec, const po::options_description& own);

// Returns: options from the parsed node flags; a flag not given comes from the environment
// when set there (ZMESH_MESH, ZMESH_SEED (several: separated by commas or spaces),
// ZMESH_INTERFACE, ZMESH_KEY, ZMESH_ALLOW, ZMESH_MESH_SECRET). Throws std::invalid_argument
// on a bad value, and std::runtime_error for a secret key or mesh secret file that is
// missing, open to others or not a key.
options node_options(const po::variables_map& vm);

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
// The exit status of a tool a signal cut short, as shells count it: 128 + the signal.
inline int interrupted_status(int sig) { return 128 + sig; }

nlohmann::json to_json(const peer_info& p);
// Every counter of node_stats (ZMESH_NODE_COUNTERS) as {"name": value}.
nlohmann::json to_json(const node_stats& s);
// One event as {"topic","sender":{"id","name"},"seq","sent_us","payload"}; a payload JSON
// cannot express (an ext type, a non-string map key) becomes "payload_error" instead.
nlohmann::json to_json(const event& e);

// Returns: the value of a body given as text: JSON as it is; text that is not JSON and does
// not start as JSON does ({, [ or ") is one string, so a bare word needs no quotes
// (`zmesh call echo hello` sends "hello"). Throws std::invalid_argument for text that starts
// as JSON but is not.
nlohmann::json parse_body(const std::string& text);
// Returns: parse_body of text read from a stream or printed by a command, but a text that is
// not JSON loses one trailing newline (`echo hello` gives "hello").
nlohmann::json parse_text(std::string text);
// Returns: the msgpack of body argument `arg`: "-" is parse_text of all of `in`, anything else
// is parse_body(arg).
std::vector<std::uint8_t> body_to_msgpack(const std::string& arg, std::istream& in);

// Prints `rows` on stdout, one line each starting with `indent`, in columns as wide as their
// widest cell and two spaces apart (nothing pads a line's last cell).
void print_table(const std::vector<std::vector<std::string>>& rows, const char* indent = "");

// Prints "PROGRAM: error: MESSAGE" on stderr and returns the exit code 1, for `return fail(..)`.
int fail(const char* program, const std::string& message);

}  // namespace zmesh::cli
