// SPDX-License-Identifier: MPL-2.0
// zmesh: one-shot mesh commands. Each joins the mesh as a node (an observer, unless it serves
// or subscribes), does one job and leaves:
//   zmesh pub TOPIC BODY       publish JSON as msgpack
//   zmesh sub [PREFIX]         print events, one per line
//   zmesh consume STREAM --name CONSUMER   consume a durable stream, acking each message
//   zmesh stream ls|info|add|rm   the members' durable streams
//   zmesh dlq ls|requeue STREAM   a stream's dead letters
//   zmesh call METHOD [ARGS]   print the result as JSON
//   zmesh reply METHOD --command CMD   serve a method with a shell command
//   zmesh ls                   members, services, subscriptions
//   zmesh check --expect-...   a health check for scripts and probes
//   zmesh keygen               keys of a secured mesh
// Exit: 0 done, 1 failed (as each command's --help says), 2 bad flags.
#include "commands.hpp"
#include "suggest.hpp"

#include <cstdio>
#include <cstring>

namespace zmesh::tool {

namespace {

const char* const keygen_about =
    "--out DIR/NAME writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub, and prints the\n"
    "public key; --mesh-secret FILE writes a fresh mesh secret (mode 0600). Either or both.\n"
    "Exit: 0 written; 1 a file exists or cannot be written; 2 bad flags.";

}  // namespace

int keygen(int argc, char** argv) {
    cli::po::options_description own("zmesh keygen options");
    own.add_options()("out", cli::po::value<std::string>(),
                      "DIR/NAME: writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub")(
        "mesh-secret", cli::po::value<std::string>(),
        "FILE: writes a new mesh secret (mode 0600), to share with every member");
    const auto cl = cli::parse(argc, argv,
                               {argv[0], "zmesh keygen --out DIR/NAME | --mesh-secret FILE", keygen_about, {}, false},
                               own);
    const auto& vm = cl.vm;
    if (!vm.count("out") && !vm.count("mesh-secret"))
        throw std::invalid_argument("give --out DIR/NAME, --mesh-secret FILE or both");
    if (vm.count("mesh-secret")) write_mesh_secret(vm["mesh-secret"].as<std::string>());
    if (vm.count("out")) {
        const auto pair = generate_keypair();
        write_keypair(pair, vm["out"].as<std::string>());
        std::printf("%s\n", pair.public_key.c_str());   // the public key, to share
    }
    return 0;
}

namespace {

struct command {
    const char* name;
    int (*run)(int, char**);
    const char* what;
};
const command commands[] = {
    {"pub", pub, "publish JSON as msgpack events"},
    {"sub", sub, "print the events of a topic prefix"},
    {"consume", consume, "consume a durable stream as a named consumer, acking each message"},
    {"stream", stream, "list, show, add and remove the members' durable streams (ls, info, add, rm)"},
    {"dlq", dlq, "list and requeue a stream's dead letters (ls, requeue)"},
    {"call", call, "call a method and print its result"},
    {"reply", reply, "serve a method with a shell command"},
    {"ls", ls, "list members, the methods they serve and the topics they subscribe to"},
    {"check", check, "check the mesh (members, services) for scripts and probes: exit status"},
    {"keygen", keygen, "write a CURVE keypair or a mesh secret for a secured mesh"},
};

int usage(std::FILE* to) {
    std::fprintf(to, "usage: zmesh COMMAND [options]   (zmesh COMMAND --help for its options)\n\n");
    for (const auto& c : commands) std::fprintf(to, "  %-7s %s\n", c.name, c.what);
    std::fprintf(to, "\nEvery command takes --mesh, --seed, --key, --allow, --mesh-secret and --interface,\n"
                     "or $ZMESH_MESH, $ZMESH_SEED, $ZMESH_KEY, $ZMESH_ALLOW, $ZMESH_MESH_SECRET and\n"
                     "$ZMESH_INTERFACE. zmesh --version prints the version.\n");
    return to == stdout ? 0 : 2;
}

}  // namespace
}  // namespace zmesh::tool

int main(int argc, char** argv) {
    using namespace zmesh;
    zmesh::tune_malloc();   // first, before any thread: see <zmesh/tuning.hpp>
    cli::block_signals();
    if (argc < 2) return tool::usage(stderr);
    if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) return tool::usage(stdout);
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("zmesh %s\n", cli::version);
        return 0;
    }
    for (const auto& c : tool::commands) {
        if (std::strcmp(argv[1], c.name) != 0) continue;
        // "zmesh pub" is the program name its errors carry.
        std::string program = std::string("zmesh ") + c.name;
        std::vector<char*> args{program.data()};
        args.insert(args.end(), argv + 2, argv + argc);
        try {
            return c.run(static_cast<int>(args.size()), args.data());
        } catch (const std::exception& e) {
            return cli::fail(program.c_str(), e.what());
        }
    }
    std::vector<std::string> names;
    for (const auto& c : tool::commands) names.emplace_back(c.name);
    std::fprintf(stderr, "zmesh: error: unknown command '%s'%s (see zmesh --help)\n", argv[1],
                 cli::did_you_mean(cli::closest(argv[1], names)).c_str());
    return 2;
}
