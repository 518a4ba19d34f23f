// SPDX-License-Identifier: MPL-2.0
// commands: the subcommands of zmesh, each run as `int NAME(argc, argv)` with argv[0] its
// program name ("zmesh pub"), and what the short-lived ones share.
#pragma once

#include "cli.hpp"
#include "mesh_view.hpp"
#include "stream_admin_client.hpp"

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
int stream(int argc, char** argv);
int dlq(int argc, char** argv);

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

// ---- zmesh stream, zmesh dlq, zmesh pub --stream (zmesh_stream.cpp, zmesh_dlq.cpp) ----

// A subcommand of a command ("zmesh stream ls"): run with argv[0] "zmesh stream ls".
struct subcommand {
    const char* name;
    int (*run)(int, char**);
    const char* what;
};
// Runs the subcommand argv[1] names; an unknown one exits 2 with the near names.
int run_subcommand(const char* command, const std::vector<subcommand>& subs, int argc, char** argv);

// Adds --node, --timeout and --wait.
void add_stream_job_flags(cli::po::options_description& desc);

// A short-lived observer that asks members about their streams: started from the flags, it
// waits for the view of the mesh (for --node's member to join, with --node).
class stream_job {
public:
    // Prints what went wrong and sets `status` when there is no member to ask.
    stream_job(const cli::po::variables_map& vm, const char* command, const char* program);

    int status = 0;                   // non-zero: the exit status, the error printed
    std::vector<peer_info> targets;   // --node's member, or every member
    const milliseconds timeout;       // of each call
    zmesh::node& mesh_node() { return n_; }
    const std::string& mesh() const { return o_.mesh; }

    struct holder {
        peer_info member;
        nlohmann::json stream;   // its report (PROTOCOL.md §15)
    };
    // Returns: the targets that hold `stream`, with its report; the others' errors go to
    // `errors`.
    std::vector<holder> holders(const std::string& stream);
    std::vector<std::pair<peer_info, cli::admin_answer>> errors;
    // Prints that no target holds `stream` (did you mean, and what failed); returns 1.
    int no_holder(const std::string& stream);

private:
    const char* program_;
    std::string member_;
    options o_;
    zmesh::node n_;
    beacon_listener listener_;
};

// zmesh pub --stream: publishes once into the streams of the member that holds one taking
// `topic` (or --node's), and returns the exit status once it is stored.
int pub_stored(const cli::po::variables_map& vm, const char* program, const std::string& topic,
               const std::vector<std::uint8_t>& payload);

}  // namespace zmesh::tool
