// SPDX-License-Identifier: MPL-2.0
// stream_node: the C++ side of the Python durable stream interop tests (PROTOCOL.md §14). A
// node that declares streams in its data directory and stores numbered events in them, and
// may consume a stream itself, acking each message; it serves "streams" (its log as it is
// now, so a test can wait on it) and runs until SIGTERM or SIGINT.
//
//   stream-node --name N --mesh M [--interface I] [--bind H] [--router-port P] [--seed EP]
//               [--beacon-port P] [--beacon-interval MS] [--data-dir D]
//               [--stream NAME:COUNT]... [--consume STREAM:CONSUMER] [--work-ms MS]
//               [--max-in-flight N]
//
// --stream declares NAME taking the topics "NAME." and stores the values 1..COUNT on
// "NAME.event", each on disk before the next. Prints, one line each: "started NAME ID",
// "stored NAME COUNT", and for each message consumed "got SEQ ATTEMPT PUBLISHER_ID".
#include <zmesh/zmesh.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

std::mutex out_mutex;

// Whole lines, at once: the test reads them as they come, from several threads.
void say(const std::string& line) {
    std::lock_guard lock(out_mutex);
    std::cout << line << std::endl;
}

std::pair<std::string, std::string> split(const std::string& s) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("expected A:B, got " + s);
    return {s.substr(0, colon), s.substr(colon + 1)};
}

struct config {
    zmesh::options opts;
    std::vector<std::pair<std::string, int>> streams;
    std::string consume_stream, consumer;
    int work_ms = 0;
    std::uint32_t max_in_flight = 256;
};

config parse(int argc, char** argv) {
    config c;
    c.opts.log = zmesh::log_level::warn;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--name") c.opts.name = value;
        else if (flag == "--mesh") c.opts.mesh = value;
        else if (flag == "--interface") c.opts.interface = value;
        else if (flag == "--bind") c.opts.bind = value;
        else if (flag == "--router-port") c.opts.router_port = static_cast<std::uint16_t>(std::stoi(value));
        else if (flag == "--seed") c.opts.seeds.push_back(value);
        else if (flag == "--beacon-port") c.opts.beacon_port = static_cast<std::uint16_t>(std::stoi(value));
        else if (flag == "--beacon-interval") c.opts.beacon_interval = std::chrono::milliseconds(std::stoi(value));
        else if (flag == "--data-dir") c.opts.data_dir = value;
        else if (flag == "--stream") {
            auto [name, count] = split(value);
            c.streams.emplace_back(name, std::stoi(count));
        } else if (flag == "--consume") {
            std::tie(c.consume_stream, c.consumer) = split(value);
        } else if (flag == "--work-ms") c.work_ms = std::stoi(value);
        else if (flag == "--max-in-flight") c.max_in_flight = static_cast<std::uint32_t>(std::stoul(value));
        else throw std::invalid_argument("unknown flag " + flag);
    }
    if (argc % 2 == 0) throw std::invalid_argument("every flag takes a value");
    return c;
}

}  // namespace

int main(int argc, char** argv) try {
    // Blocked before the node's threads start, so that they inherit it and sigwait gets it.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    auto c = parse(argc, argv);
    zmesh::node n(c.opts);
    n.serve("streams", [&n](const zmesh::request&) {
        std::map<std::string, std::vector<std::uint64_t>> out;   // name -> first, last, messages
        for (const auto& s : n.streams()) out[s.config.name] = {s.first_seq, s.last_seq, s.messages};
        return zmesh::response(out);
    });
    n.start();
    say("started " + n.name() + " " + n.id().hex());
    for (const auto& [name, count] : c.streams) {
        n.declare_stream({name, name + "."});
        for (int i = 1; i <= count; ++i) n.publish_stored(name + ".event", i).get();
        say("stored " + name + " " + std::to_string(count));
    }
    if (!c.consumer.empty()) {
        zmesh::consume_options o;
        o.start = zmesh::stream_start::first;
        o.max_in_flight = c.max_in_flight;
        const auto work = std::chrono::milliseconds(c.work_ms);
        n.consume(c.consume_stream, c.consumer, [work](const zmesh::stream_message& m) {
            if (work.count() > 0) std::this_thread::sleep_for(work);
            say("got " + std::to_string(m.seq()) + " " + std::to_string(m.attempt()) + " " + m.publisher().hex());
            m.ack();
        }, o);
        say("consuming " + c.consume_stream + " as " + c.consumer);
    }
    int sig = 0;
    sigwait(&stop, &sig);
    n.stop();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "stream-node: " << e.what() << std::endl;
    return 1;
}
