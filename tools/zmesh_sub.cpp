// SPDX-License-Identifier: MPL-2.0
// zmesh sub: prints the events of a topic prefix, one per line, and says what it missed.
#include "commands.hpp"
#include "receipt.hpp"
#include "senders.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <cstdio>

namespace zmesh::tool {

namespace {

const char* const about =
    "Prints the events whose topic starts with PREFIX (default: every topic), one per line, until\n"
    "--count of them came, --timeout passed, SIGINT/SIGTERM, or its output is closed (| head);\n"
    "with --count, also once every publisher it received from has left and nothing came for\n"
    "half a second (what they sent past the last that came is lost: past --hwm, say).\n"
    "Waits for a first publisher however long it takes (saying on stderr, once the view of the\n"
    "mesh has settled, when it sees no member).\n"
    "Joins as a member: publishers learn its subscriptions (observers do not tell them).\n"
    "On exit it prints on stderr what it received and missed (gaps: events a publisher sent\n"
    "that never came, e.g. past --hwm; and short of --count, how many did not come).\n"
    "Exit: 0 --count events came (without --count: however it ended) and none was missed;\n"
    "1 stopped, timed out or left by its publishers short of --count, events were missed, or a\n"
    "bad value; 2 bad flags.";

// Events the SUB socket held when a publisher's LEAVE came may still come after it: once every
// publisher has left, nothing must come for this long.
constexpr milliseconds leave_grace{500};

// Returns: the line zmesh sub prints for `e`, with its newline.
std::string line_of(const event& e, bool json) {
    const auto j = cli::to_json(e);
    std::string line;
    if (json) {
        line = j.dump();
    } else {
        line.append(e.topic()).append(" ").append(e.sender_name()).append(" #").append(std::to_string(e.seq()));
        if (j.contains("payload"))
            line.append(" ").append(j["payload"].dump());
        else
            line.append(" <").append(j["payload_error"].get<std::string>()).append(">");
    }
    line += '\n';
    return line;
}

}  // namespace

int sub(int argc, char** argv) {
    cli::po::options_description own("zmesh sub options");
    // clang-format off
    own.add_options()
        ("count", cli::po::value<std::uint64_t>()->default_value(0), "exit after this many events (0: never)")
        ("timeout", cli::po::value<std::string>()->default_value("0"), "give up after this many seconds, or with a unit (500ms) (0: never)")
        ("json", "print each event as one JSON line");
    // clang-format on
    const auto cl = cli::parse(argc, argv,
                               {argv[0], "zmesh sub [options] [PREFIX]", about, {"PREFIX?"}, true, "warn"}, own);
    const auto& vm = cl.vm;
    const std::string prefix = cl.args.empty() ? "" : cl.args[0];
    const auto count = vm["count"].as<std::uint64_t>();
    const bool json = vm.count("json") > 0;
    const auto timeout = cli::duration_flag(vm, "timeout", milliseconds(1000));

    const auto o = job_options(vm, "sub", true);
    std::atomic<std::uint64_t> received{0};   // outlives the node, whose thread writes it
    std::atomic<bool> output_closed{false};   // `zmesh sub | head -3`: the reader is gone
    std::mutex senders_mutex;                 // the node's threads tell, the main thread asks
    cli::senders senders(leave_grace);
    const auto start = steady::now();
    node n(o);
    // Only until the view has settled once: it says why no member answered, if none did.
    auto listener = std::make_unique<beacon_listener>(o, n.id());
    if (count)
        n.on_peer_event([&](const peer_event& e) {
            const std::lock_guard lock(senders_mutex);
            senders.peer(e.peer.id, e.kind, steady::now());
        });
    // Runs on the node's delivery thread; the main thread only watches the count.
    n.subscribe(prefix, [&](const event& e) {
        if (count && received.load() >= count) return;
        // A line that takes long to write (a slow reader) is no silence of the publishers.
        const auto tell = [&](bool done) {
            const std::lock_guard lock(senders_mutex);
            done ? senders.event_done(steady::now()) : senders.event_from(e.sender(), steady::now());
        };
        if (count) tell(false);
        const auto line = line_of(e, json);
        const bool written =
            std::fwrite(line.data(), 1, line.size(), stdout) == line.size() && std::fflush(stdout) == 0;
        if (count) tell(true);
        if (!written) {
            output_closed = true;
            return;
        }
        ++received;
    });
    n.start();

    cli::settle_tracker view(cli::settle_rules_for(o), start);
    bool timed_out = false, senders_left = false;
    int stopped_by = 0;
    while ((!count || received.load() < count) && !output_closed) {
        if ((stopped_by = cli::wait_for_signal(milliseconds(20)))) break;
        const auto now = steady::now();
        if (timeout.count() > 0 && now - start >= timeout) {
            timed_out = true;
            break;
        }
        if (count) {
            const std::lock_guard lock(senders_mutex);
            if ((senders_left = senders.all_left(now))) break;
        }
        // Once, when the view has settled with no one in it: the user may have the wrong mesh.
        if (listener) {
            listener->poll();
            const auto peers = n.peers();
            if (view.update(peers, now)) {
                if (cli::members_of(peers).empty() && received.load() == 0)
                    std::fprintf(stderr, "zmesh sub: waiting for publishers: %s\n",
                                 cli::why_no_members(o, *listener).c_str());
                listener.reset();
            }
        }
    }
    const auto stats = n.stats();
    n.stop();
    cli::receipt r;
    r.wanted = count;
    r.received = received.load();
    r.gaps = stats.events_gaps;
    r.invalid = stats.events_invalid;
    r.timed_out = timed_out;
    r.interrupted = stopped_by != 0;
    r.senders_left = senders_left;
    std::fputs(cli::report(r).c_str(), stderr);
    return cli::exit_status(r);
}

}  // namespace zmesh::tool
