// SPDX-License-Identifier: MPL-2.0
// zmesh consume: consumes a durable stream by a consumer name, one line per message, each
// acknowledged once its line is out.
#include "commands.hpp"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace zmesh::tool {

namespace {

const char* const about =
    "Consumes STREAM as the consumer --name CONSUMER from every member that publishes it (one\n"
    "that declared it: zmesh-node --data-dir DIR --stream NAME=PREFIX): processes of one name\n"
    "share the messages, each going to one of them at a time. Prints a line per message,\n"
    "\"SEQ ATTEMPT PUBLISHER PAYLOAD-JSON\" (ATTEMPT > 1: it may have been handed before), or a\n"
    "JSON object with --json, and acknowledges it once the line is written: a line printed is a\n"
    "message handed. The publisher keeps the consumer's position, so the next run of the same\n"
    "name goes on where this one stopped; --from says where a new name starts.\n"
    "--nak-every K naks (never acks) the messages whose SEQ is a multiple of K, so they come\n"
    "back until max deliveries send them to the stream \"STREAM.dlq\": a poison-message drill.\n"
    "--no-ack settles nothing: messages come back after --ack-wait, or at once when it exits;\n"
    "--ack-after D settles each D late (past --ack-wait, the publisher refuses and counts it).\n"
    "--ordered-by-key hands the messages of one key (zmesh-node --keys) to one process at a\n"
    "time, in the order stored, if this name's first consumer at the publisher asked for it.\n"
    "On exit it prints on stderr how many it acked and naked.\n"
    "Exit: 0 --count messages acked (without --count: --timeout passed); 1 --timeout passed\n"
    "short of --count, or a bad value; 128+N on signal N (130 on SIGINT); 2 bad flags.";

// Finds publishers' names by id, asking the node only for an id not seen yet.
class publisher_names {
public:
    explicit publisher_names(const node& n) : node_(n) {}
    std::string operator()(const node_id& id) {
        std::lock_guard lock(mutex_);
        auto it = names_.find(id);
        if (it == names_.end()) {
            for (const auto& p : node_.peers()) names_[p.id] = p.name;
            it = names_.find(id);
            if (it == names_.end()) return id.short_hex();
        }
        return it->second;
    }

private:
    const node& node_;
    std::mutex mutex_;
    std::map<node_id, std::string> names_;
};

}  // namespace

void start_from(const std::string& text, consume_options& o) {
    if (text == "first") {
        o.start = stream_start::first;
    } else if (text == "new") {
        o.start = stream_start::new_messages;
    } else {
        std::uint64_t seq = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seq);
        if (error != std::errc() || end != text.data() + text.size() || seq == 0)
            throw std::invalid_argument("--from is first, new or a sequence number >= 1, not '" + text + "'");
        o.start = stream_start::sequence;
        o.start_sequence = seq;
    }
}

nlohmann::json consumed_json(const stream_message& m, const std::string& publisher_name) {
    nlohmann::json j = {{"stream", m.stream()},
                        {"seq", m.seq()},
                        {"attempt", m.attempt()},
                        {"publisher", {{"id", m.publisher().hex()}, {"name", publisher_name}}},
                        {"stored_us", std::chrono::duration_cast<std::chrono::microseconds>(
                                          m.stored_at().time_since_epoch()).count()}};
    if (!m.key().empty()) j["key"] = m.key();
    try {
        j["payload"] = nlohmann::json::from_msgpack(m.bytes().begin(), m.bytes().end());
    } catch (const std::exception& e) {
        j["payload_error"] = e.what();
    }
    return j;
}

std::string consumed_line(const stream_message& m, const std::string& publisher_name) {
    const auto j = consumed_json(m, publisher_name);
    std::string line = std::to_string(m.seq()) + " " + std::to_string(m.attempt()) + " " + publisher_name + " ";
    if (j.contains("payload"))
        line += j["payload"].dump();
    else
        line += "<" + j["payload_error"].get<std::string>() + ">";
    return line;
}

int consume(int argc, char** argv) {
    cli::po::options_description own("zmesh consume options");
    // clang-format off
    own.add_options()
        ("count", cli::po::value<std::uint64_t>()->default_value(0), "exit after acking this many messages (0: never)")
        ("from", cli::po::value<std::string>()->default_value("new"), "where a consumer name new to the publisher starts: first, new or a sequence number")
        ("json", "print each message as one JSON object: stream, seq, attempt, publisher, stored_us, key (if any), payload")
        ("nak-every", cli::po::value<std::uint64_t>()->default_value(0), "nak instead of ack the messages whose sequence is a multiple of K (0: none)")
        ("no-ack", "settle nothing: print the messages and let them come back")
        ("ordered-by-key", "hand the messages of one key to one member of the name at a time, in order")
        ("ack-after", cli::po::value<std::string>()->default_value("0"), "wait this long before settling each message, in seconds or with a unit (500ms): a slow worker, whose settles come late past --ack-wait")
        ("max-deliveries", cli::po::value<std::uint32_t>()->default_value(consume_options{}.max_deliveries), "attempts at a message before it goes to STREAM.dlq")
        ("ack-wait", cli::po::value<std::string>()->default_value("30"), "seconds a message may stay unsettled before it is redelivered, or with a unit (500ms)")
        ("timeout", cli::po::value<std::string>()->default_value("0"), "give up after this many seconds, or with a unit (500ms) (0: never)");
    // clang-format on
    const auto cl = cli::parse(argc, argv,
                               {argv[0], "zmesh consume STREAM --name CONSUMER [options]", about, {"STREAM"}, true, "warn"},
                               own);
    const auto& vm = cl.vm;
    if (!vm.count("name")) {
        std::fprintf(stderr, "%s: error: missing --name CONSUMER (usage: zmesh consume STREAM --name CONSUMER [options]; see --help)\n", argv[0]);
        return 2;
    }
    const std::string stream = cl.args[0], consumer = vm["name"].as<std::string>();
    const auto count = vm["count"].as<std::uint64_t>();
    const auto nak_every = vm["nak-every"].as<std::uint64_t>();
    const bool json = vm.count("json") > 0, no_ack = vm.count("no-ack") > 0;
    const auto timeout = cli::duration_flag(vm, "timeout", milliseconds(1000));
    consume_options co;
    start_from(vm["from"].as<std::string>(), co);
    co.max_deliveries = vm["max-deliveries"].as<std::uint32_t>();
    co.ack_wait = cli::duration_flag(vm, "ack-wait", milliseconds(1000));
    co.ordered_by_key = vm.count("ordered-by-key") > 0;
    const auto ack_after = cli::duration_flag(vm, "ack-after", milliseconds(1000));

    // An observer: a publisher hands messages to whoever asks for them, member or not. --name
    // names the consumer; the node is that name and the pid, so that members of one name are
    // told apart.
    auto o = job_options(vm, "consume", false);
    o.name = consumer.substr(0, 40) + "-" + std::to_string(getpid());
    node n(o);
    n.start();
    publisher_names names(n);
    std::atomic<std::uint64_t> acked{0}, naked{0};
    std::atomic<bool> output_closed{false};
    // Runs on the node's delivery thread, one message at a time; the main thread watches.
    n.consume(stream, consumer, [&](const stream_message& m) {
        if ((count && acked.load() >= count) || output_closed) return;   // handed back on exit
        auto line = json ? consumed_json(m, names(m.publisher())).dump() : consumed_line(m, names(m.publisher()));
        line += '\n';
        if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout) != 0) {
            output_closed = true;
            return;
        }
        if (no_ack) return;
        if (ack_after.count() > 0) std::this_thread::sleep_for(ack_after);
        if (nak_every && m.seq() % nak_every == 0) {
            m.nak(milliseconds(0), "nak-every " + std::to_string(nak_every));
            ++naked;
        } else {
            m.ack();
            ++acked;
        }
    }, co);

    const auto start = steady::now();
    bool timed_out = false;
    int stopped_by = 0;
    while ((!count || acked.load() < count) && !output_closed) {
        if ((stopped_by = cli::wait_for_signal(milliseconds(20)))) break;
        if (timeout.count() > 0 && steady::now() - start >= timeout) {
            timed_out = true;
            break;
        }
    }
    n.stop();   // what it holds unsettled goes back to the publisher
    std::fprintf(stderr, "acked %llu, naked %llu message(s) of %s as %s\n",
                 static_cast<unsigned long long>(acked.load()), static_cast<unsigned long long>(naked.load()),
                 stream.c_str(), consumer.c_str());
    if (stopped_by) return cli::interrupted_status(stopped_by);
    if (count && acked.load() < count) {
        std::fprintf(stderr, "%s: error: %s with %llu of %llu message(s)\n", argv[0],
                     timed_out ? "timed out" : "stopped", static_cast<unsigned long long>(acked.load()),
                     static_cast<unsigned long long>(count));
        return 1;
    }
    return 0;
}

}  // namespace zmesh::tool
