// SPDX-License-Identifier: MPL-2.0
// zmesh-node: one mesh member as a process. Prints each peer event as one line on stdout:
//   EVENT NAME ID [REASON]      e.g. "joined orders 3f2a...", "left orders 3f2a... leave"
// and on exit a line "stats {JSON}". Exits 0 on SIGINT/SIGTERM after sending LEAVE.
#include "cli.hpp"

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    using namespace zmesh;
    cli::block_signals();
    cli::po::options_description desc("zmesh-node options");
    cli::add_node_flags(desc);
    const auto vm = cli::parse(argc, argv, desc, "zmesh-node [--name NAME] [--mesh MESH] [options]");

    try {
        node n(cli::node_options(vm));
        n.on_peer_event([](const peer_event& e) {
            std::string line = std::string(to_string(e.kind)) + " " + e.peer.name + " " +
                               e.peer.id.hex();
            if (e.peer.observer) line += " observer";
            if (e.reason != leave_reason::none) line += " " + std::string(to_string(e.reason));
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
        });
        n.start();
        std::printf("started %s %s mesh=%s pub=%s router=%s\n", n.name().c_str(),
                    n.id().hex().c_str(), n.config().mesh.c_str(), n.pub_endpoint().c_str(),
                    n.router_endpoint().c_str());
        std::fflush(stdout);
        while (cli::wait_for_signal(std::chrono::milliseconds(1000)) == 0) {
        }
        const auto stats = n.stats();
        n.stop();
        std::printf("stats %s\n", cli::to_json(stats).dump().c_str());
        return 0;
    } catch (const std::exception& e) {
        return cli::fail("zmesh-node", e.what());
    }
}
