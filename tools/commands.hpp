// SPDX-License-Identifier: MPL-2.0
// commands: the subcommands of zmesh, each run as `int NAME(argc, argv)` with argv[0] its
// program name ("zmesh pub"), and what the short-lived ones share.
#pragma once

#include "cli.hpp"
#include "mesh_view.hpp"

#include <string>
#include <vector>

namespace zmesh::tool {

using cli::beacon_listener;
using cli::steady;

int pub(int argc, char** argv);
int sub(int argc, char** argv);
int call(int argc, char** argv);
int reply(int argc, char** argv);
int ls(int argc, char** argv);
int check(int argc, char** argv);
int keygen(int argc, char** argv);
int consume(int argc, char** argv);

// Returns: the options of a short-lived node from the flags: named COMMAND-PID unless --name
// says otherwise; an observer unless `member` (it serves or subscribes), so that it is never
// taken for a member of the mesh.
options job_options(const cli::po::variables_map& vm, const char* command, bool member);

// Adds --wait: the most to wait for the view of the mesh to settle (cli::await_view's bound).
void add_wait_flag(cli::po::options_description& desc);
// Returns: --wait.
milliseconds wait_flag(const cli::po::variables_map& vm);

// Returns: the names of `peers`, comma-separated, cut after `max`.
std::string names_of(const std::vector<peer_info>& peers, std::size_t max = 6);

// Returns: true when a member subscribed to a prefix of `topic` (and told us so).
bool subscribes_to(const peer_info& p, std::string_view topic);

// zmesh consume's pure parts (tests/tools). Sets o.start (and start_sequence) from --from:
// first, new or a sequence >= 1; throws std::invalid_argument for anything else.
void start_from(const std::string& text, consume_options& o);
// Returns: a message as zmesh consume --json prints it; a payload JSON cannot express
// becomes "payload_error".
nlohmann::json consumed_json(const stream_message& m, const std::string& publisher_name);
// Returns: "SEQ ATTEMPT PUBLISHER PAYLOAD-JSON", as zmesh consume prints a message.
std::string consumed_line(const stream_message& m, const std::string& publisher_name);

}  // namespace zmesh::tool
