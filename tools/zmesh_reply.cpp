// SPDX-License-Identifier: MPL-2.0
// zmesh reply: serves a method by running a shell command for each request.
#include "command_runner.hpp"
#include "commands.hpp"

#include <atomic>
#include <cstdio>

namespace zmesh::tool {

namespace {

const char* const about =
    "Serves METHOD until SIGINT/SIGTERM: each request runs CMD with /bin/sh -c, the request's\n"
    "arguments as one line of JSON on its stdin and ZMESH_METHOD, ZMESH_CALLER (its name) and\n"
    "ZMESH_CALLER_ID in its environment. What CMD prints on stdout is the reply (JSON; other\n"
    "text is one string; nothing is null). A command that exits non-zero replies with an\n"
    "error whose code is its exit status (remote: code N: its last stderr line); one still\n"
    "running at the caller's deadline is killed. Up to --concurrency commands run at once.\n"
    "Joins as a member. Exit: 0 stopped by SIGINT/SIGTERM; 1 a bad value; 2 bad flags.";

// Error codes of replies when the command did not run to a clean end (exit statuses are
// 1..255; the server's own codes are negative).
constexpr std::int64_t timed_out_code = 124;     // as timeout(1) reports it
constexpr std::int64_t bad_output_code = 125;    // too large, or broken JSON

}  // namespace

int reply(int argc, char** argv) {
    cli::po::options_description own("zmesh reply options");
    // clang-format off
    own.add_options()
        ("command", cli::po::value<std::string>()->required(), "shell command run for each request (/bin/sh -c CMD)")
        ("concurrency", cli::po::value<std::size_t>()->default_value(4), "commands running at once, at most; more requests queue");
    // clang-format on
    const auto cl = cli::parse(argc, argv,
                               {argv[0], "zmesh reply [options] METHOD --command CMD", about, {"METHOD"}, true, "warn"},
                               own);
    const auto& vm = cl.vm;
    const auto& method = cl.args[0];
    const auto command = vm["command"].as<std::string>();
    if (command.empty()) throw std::invalid_argument("--command is empty");
    auto o = job_options(vm, "reply", true);
    o.rpc_workers = vm["concurrency"].as<std::size_t>();
    if (o.rpc_workers < 1 || o.rpc_workers > 256) throw std::invalid_argument("--concurrency must be 1..256");
    const std::size_t max_reply = o.max_rpc_size;

    std::atomic<std::uint64_t> served{0}, failed{0};
    node n(o);
    // Runs on the node's worker threads, up to --concurrency at once.
    n.serve(method, [&](const request& r) -> response {
        std::string input;
        try {
            input = nlohmann::json::from_msgpack(r.bytes().begin(), r.bytes().end()).dump() + "\n";
        } catch (const nlohmann::json::exception&) {
            ++failed;
            return rpc_error(bad_output_code, "the arguments are not expressible as JSON");
        }
        const auto result = cli::run_command(command, input, r.deadline(), max_reply,
                                             {{"ZMESH_METHOD", r.method()},
                                              {"ZMESH_CALLER", r.caller_name()},
                                              {"ZMESH_CALLER_ID", r.caller().hex()}});
        std::string error;
        std::int64_t code = 0;
        std::vector<std::uint8_t> packed;
        if (result.timed_out || result.output_too_large || result.status != 0) {
            code = result.timed_out ? timed_out_code : result.output_too_large ? bad_output_code : result.status;
            error = "'" + command + "' " + cli::describe_failure(result);
        } else {
            try {
                const auto& out = result.out;
                packed = nlohmann::json::to_msgpack(out.find_first_not_of(" \t\r\n") == std::string::npos
                                                        ? nlohmann::json(nullptr)
                                                        : cli::parse_text(out));
            } catch (const std::exception& e) {
                code = bad_output_code;
                error = "'" + command + "' printed what is not a reply: " + e.what();
            }
        }
        if (!error.empty()) {
            ++failed;
            if (error.size() > 1000) error.resize(1000);   // a reply's error text is bounded
            std::fprintf(stderr, "zmesh reply: %s for %s: %s\n", method.c_str(), r.caller_name().c_str(), error.c_str());
            return rpc_error(code, error);
        }
        ++served;
        return response(payload(packed, nullptr));
    });
    n.start();
    while (!cli::wait_for_signal(milliseconds(1000))) {
    }
    n.stop();
    std::fprintf(stderr, "served %llu request(s) for %s, %llu failed\n", static_cast<unsigned long long>(served.load()),
                 method.c_str(), static_cast<unsigned long long>(failed.load()));
    return 0;
}

}  // namespace zmesh::tool
