// SPDX-License-Identifier: MPL-2.0
// zmesh-bench: where zmesh stands against raw libzmq, measured in one invocation on this
// host. Each subcommand runs its peers as separate processes over tcp loopback (this
// program again, with a hidden "_role NAME"), runs the libzmq baseline of the same shape
// right after, and prints both with their ratio — a table, or one JSON object with --json.
// (codec and durable run in this process, against msgpack-cxx and raw SQLite; durable's
// end-to-end shapes also against JetStream, when nats-server and libnats are there.)
//
//   zmesh-bench pubsub    [--size 64] [--count 1000000] [--subscribers 1] [--secure]
//   zmesh-bench rpc       [--size 64] [--count 20000] [--pipelined 200000] [--window 100]
//   zmesh-bench discovery [--nodes 32]
//   zmesh-bench codec     [--size 64] [--count 5000000]
//   zmesh-bench durable   [--size 64] [--count 100000] [--batch 1|10|100] [--durability os|fsync]
//   zmesh-bench report    [--out docs/performance.md]: the standard ones, as a document
//   common: [--runs 3] [--json] [--timeout 60] [--interface lo]
#include "bench.hpp"

#include <zmesh/node_id.hpp>
#include <zmesh/tuning.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>

namespace {

using namespace zmesh;
using namespace zmesh::bench;

const char* usage =
    "usage: zmesh-bench pubsub|rpc|discovery|codec|durable [options]\n"
    "       zmesh-bench report [--out docs/performance.md] [--runs 3]   (every benchmark above, as a document)\n"
    "Runs zmesh and the raw libzmq baseline of the same shape (codec: msgpack-cxx; durable: SQLite,\n"
    "and JetStream when nats-server is on PATH and zmesh-bench-jetstream was built);\n"
    "prints both and their ratio.\n"
    "Exit: 0 measured; 1 a run failed; 2 bad flags.";

// The options --help shows.
po::options_description flags() {
    po::options_description d("zmesh-bench options");
    // clang-format off
    d.add_options()
        ("help,h", "this text")
        ("version", "print the version and exit")
        ("runs", po::value<int>()->default_value(3), "runs per side; figures are their medians")
        ("json", po::bool_switch(), "print one JSON object instead of a table")
        ("timeout", po::value<int>()->default_value(60), "seconds any one step may take")
        ("interface", po::value<std::string>()->default_value("lo"), "interface nodes beacon on")
        ("size", po::value<std::size_t>()->default_value(64), "payload bytes")
        ("count", po::value<std::uint64_t>(), "events (pubsub), sequential calls (rpc), operations (codec), records (durable)")
        ("subscribers", po::value<std::size_t>()->default_value(1), "pubsub: subscriber processes")
        ("secure", po::bool_switch(), "pubsub: also run both sides encrypted (zmesh secured, raw CURVE) with throwaway keys")
        ("pipelined", po::value<std::uint64_t>()->default_value(200000), "rpc: calls in the pipelined phase")
        ("window", po::value<std::uint64_t>()->default_value(100), "rpc: calls outstanding in the pipelined phase")
        ("handler", po::value<std::string>()->default_value("reactor"), "where zmesh runs application code (pubsub: the subscribers' handler; rpc: the server's handler and the client's callbacks): reactor (run_on::reactor, like raw's loops) or threads (delivery and worker threads)")
        ("nodes", po::value<std::size_t>()->default_value(32), "discovery: node processes")
        ("settle", po::value<int>()->default_value(0), "discovery: seconds the converged nodes idle before their memory is read")
        ("gossip", po::bool_switch(), "zmesh's nodes are members by gossip (options::gossip): probes over UDP, no heartbeat on every link")
        ("subscribe", po::bool_switch(), "discovery: every node subscribes to a topic prefix before it starts (two more connections per pair of nodes: each one's SUB to the other's PUB)")
        ("batch", po::value<std::size_t>(), "durable: records per commit (default: 1, 10 and 100 in turn)")
        ("durability", po::value<std::string>(), "durable: os or fsync (default: both; fsync with a tenth of --count, at the largest batch; os also runs the end-to-end shapes: stored publishes through a node, one at a time (a fiftieth of --count) and 256 outstanding, then acked by a group of 2)")
        ("out", po::value<std::string>()->default_value("docs/performance.md"), "report: the Markdown file to write");
    // clang-format on
    return d;
}

// The benchmark named, and what this program passes the peers it starts as itself.
po::options_description internal_flags() {
    po::options_description hidden;
    // clang-format off
    hidden.add_options()
        ("command", po::value<std::string>(), "")
        ("role", po::value<std::string>(), "")
        ("mesh", po::value<std::string>(), "")
        ("beacon-port", po::value<std::uint16_t>(), "")
        ("endpoint", po::value<std::string>(), "")
        ("key-dir", po::value<std::string>(), "")
        ("name", po::value<std::string>(), "");
    // clang-format on
    return hidden;
}

std::uint64_t default_count(const std::string& command) {
    if (command == "pubsub") return 1'000'000;
    if (command == "rpc") return 20'000;
    if (command == "durable") return 100'000;
    return 5'000'000;
}

settings parse(int argc, char** argv) {
    const auto shown = flags();
    po::options_description desc;
    desc.add(shown).add(internal_flags());
    po::positional_options_description pos;
    pos.add("command", 1).add("role", 1);
    settings s;
    // Whole flags only: no guessing --nod for --nodes.
    po::store(po::command_line_parser(argc, argv)
                  .options(desc)
                  .positional(pos)
                  .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                  .run(),
              s.vm);
    if (s.vm.count("version")) {
        std::cout << "zmesh-bench " << ZMESH_VERSION << "\n";
        std::exit(0);
    }
    if (s.vm.count("help")) {
        std::cout << usage << "\n\n" << shown << "\n";
        std::exit(0);
    }
    po::notify(s.vm);
    if (!s.vm.count("command")) throw std::invalid_argument("which benchmark? pubsub, rpc, discovery, codec or durable");
    const auto command = s.get<std::string>("command");
    if (!s.vm.count("count"))
        s.vm.insert({"count", po::variable_value(default_count(command), true)});
    s.runs = s.get<int>("runs");
    s.json = s.get<bool>("json");
    s.timeout = std::chrono::seconds(s.get<int>("timeout"));
    s.interface = s.get<std::string>("interface");
    if (s.runs < 1 || s.runs > 100) throw std::invalid_argument("--runs must be 1..100");
    if (s.timeout.count() < 1) throw std::invalid_argument("--timeout must be at least 1 second");
    if (s.get<std::uint64_t>("count") < 1) throw std::invalid_argument("--count must be at least 1");
    if (s.get<std::size_t>("size") > 16 * 1024 * 1024) throw std::invalid_argument("--size is at most 16 MiB");
    if (s.get<std::uint64_t>("window") < 1) throw std::invalid_argument("--window must be at least 1");
    if (const auto h = s.get<std::string>("handler"); h != "reactor" && h != "threads")
        throw std::invalid_argument("--handler is reactor or threads, not '" + h + "'");
    if (s.get<std::size_t>("subscribers") < 1 || s.get<std::size_t>("subscribers") > 64)
        throw std::invalid_argument("--subscribers must be 1..64");
    if (s.get<int>("settle") < 0 || s.get<int>("settle") > 3600)
        throw std::invalid_argument("--settle must be 0..3600 seconds");
    if (s.vm.count("batch") && (s.get<std::size_t>("batch") < 1 || s.get<std::size_t>("batch") > 1'000'000))
        throw std::invalid_argument("--batch must be 1..1000000");
    if (s.vm.count("durability"))
        if (const auto d = s.get<std::string>("durability"); d != "os" && d != "fsync")
            throw std::invalid_argument("--durability is os or fsync, not '" + d + "'");
    // A full mesh of links past 256 members is what gossip is for (docs/scale.md).
    if (const auto n = s.get<std::size_t>("nodes"); n > (s.get<bool>("gossip") ? 1000u : 256u))
        throw std::invalid_argument("--nodes is at most 256, or 1000 with --gossip");
    if (command == "_role") {
        if (!s.vm.count("role") || !s.vm.count("mesh") || !s.vm.count("beacon-port"))
            throw std::invalid_argument("_role needs a role, --mesh and --beacon-port");
        s.mesh = s.get<std::string>("mesh");
        s.beacon_port = s.get<std::uint16_t>("beacon-port");
    } else {
        if (s.vm.count("role")) throw std::invalid_argument("unexpected argument '" + s.get<std::string>("role") + "'");
        s.mesh = "bench-" + node_id::random().hex().substr(0, 12);
        s.beacon_port = free_loopback_port(SOCK_DGRAM, "beacons");
    }
    return s;
}

int run_role(const settings& s) {
    roles all = pubsub_roles();
    all.merge(rpc_roles());
    all.merge(discovery_roles());
    const auto it = all.find(s.get<std::string>("role"));
    if (it == all.end()) throw std::invalid_argument("no role '" + s.get<std::string>("role") + "'");
    return it->second(s);
}

}  // namespace

int main(int argc, char** argv) {
    // Both sides of every benchmark run in processes started from here, raw libzmq's too:
    // the setting is zmesh's advice to every application (see <zmesh/tuning.hpp>).
    zmesh::tune_malloc();
    settings s;
    try {
        s = parse(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "zmesh-bench: error: " << e.what() << " (see zmesh-bench --help)\n";
        return 2;
    }
    try {
        const auto command = s.get<std::string>("command");
        if (command == "_role") return run_role(s);
        if (command == "pubsub") return run_pubsub(s);
        if (command == "rpc") return run_rpc(s);
        if (command == "discovery") return run_discovery(s);
        if (command == "codec") return run_codec(s);
        if (command == "durable") return run_durable(s);
        if (command == "report") return run_report(s);
        std::cerr << "zmesh-bench: error: no benchmark '" << command << "' (see zmesh-bench --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "zmesh-bench: error: " << e.what() << "\n";
        return 1;
    }
}
