// SPDX-License-Identifier: MPL-2.0
// zmesh dlq: a stream's dead letters listed and requeued on the members that hold it; and
// zmesh pub --stream, a publish into a member's streams answered once stored.
#include "commands.hpp"
#include "stream_admin_client.hpp"
#include "suggest.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace zmesh::tool {

namespace {

const char* const about =
    "Lists and requeues the dead letters of STREAM (the messages that ran out of deliveries,\n"
    "kept in STREAM.dlq with their last error) on the members that hold it, or on --node,\n"
    "through their reserved methods (zmesh.dlq.ls, zmesh.dlq.requeue). A requeued message goes\n"
    "back into STREAM as a new message and leaves the dead letters; requeue needs a member that\n"
    "allows it (zmesh-node --stream-admin). Joins as an observer.\n"
    "Exit: 0 done; 1 no member holds STREAM, no such dead letter, the member refused (its\n"
    "error, with its code, on stderr) or a bad value; 2 bad flags or subcommand.";

// Dead letters one listing reads from one member at most, page after page.
constexpr std::uint64_t page_size = 100;

std::string iso_time(std::uint64_t us) {
    const std::time_t t = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us / 1000 % 1000));
    return buf;
}

int dlq_ls(int argc, char** argv) {
    cli::po::options_description own("zmesh dlq ls options");
    own.add_options()("json", "print one JSON object: {stream, nodes: [{node, id, messages, dead_letters: [...]}]}")(
        "max", cli::po::value<std::uint64_t>()->default_value(1000), "list at most this many dead letters of each member");
    add_stream_job_flags(own);
    const auto cl = cli::parse(argc, argv, {argv[0], "zmesh dlq ls STREAM [--node NAME] [options]", about, {"STREAM"}, true, "warn"}, own);
    const auto& stream = cl.args[0];
    const auto max = cl.vm["max"].as<std::uint64_t>();
    if (max == 0) throw std::invalid_argument("--max must be at least 1");
    stream_job job(cl.vm, "dlq", argv[0]);
    if (job.status) return job.status;
    const auto found = job.holders(stream);
    if (found.empty()) return job.no_holder(stream);
    nlohmann::json out = {{"stream", stream}, {"nodes", nlohmann::json::array()}};
    int status = 0;
    for (const auto& [p, s] : found) {
        nlohmann::json node = {{"node", p.name}, {"id", p.id.hex()}, {"dead_letters", nlohmann::json::array()}};
        std::uint64_t from = 1;
        while (node["dead_letters"].size() < max) {
            const auto want = std::min(page_size, max - node["dead_letters"].size());
            const auto a = cli::ask(job.mesh_node(), p.id, "zmesh.dlq.ls",
                                    {{"stream", stream}, {"from", from}, {"max", want}}, job.timeout);
            if (!a.ok) {
                status = cli::fail(argv[0], cli::describe_error(p.name, a));
                break;
            }
            node["messages"] = a.result["messages"];
            for (const auto& d : a.result["dead_letters"]) node["dead_letters"].push_back(d);
            if (!a.result["more"].is_number_unsigned()) break;
            from = a.result["more"].get<std::uint64_t>();
        }
        out["nodes"].push_back(node);
    }
    if (cl.vm.count("json")) {
        std::cout << out.dump() << std::endl;
        return status;
    }
    for (const auto& node : out["nodes"]) {
        std::cout << stream << " on " << node["node"].get<std::string>() << ": " << node.value("messages", 0ull)
                  << " dead letter(s)\n";
        for (const auto& d : node["dead_letters"])
            std::cout << "  " << d.value("seq", 0ull) << " (was " << d.value("original_seq", 0ull) << ") "
                      << d.value("attempts", 0ull) << " attempt(s) " << iso_time(d.value("stored_us", 0ull)) << " "
                      << nlohmann::json(d.value("error", "")).dump() << " " << d["payload"].dump() << "\n";
    }
    return status;
}

int dlq_requeue(int argc, char** argv) {
    const char* usage = "zmesh dlq requeue STREAM (SEQ | --all) [--node NAME]";
    cli::po::options_description own("zmesh dlq requeue options");
    own.add_options()("all", "requeue every dead letter of STREAM");
    add_stream_job_flags(own);
    const auto cl = cli::parse(argc, argv, {argv[0], usage, about, {"STREAM", "SEQ?"}, true, "warn"}, own);
    const bool all = cl.vm.count("all") > 0;
    if (all == (cl.args.size() > 1)) {
        std::fprintf(stderr, "%s: error: give SEQ or --all, not %s (usage: %s; see --help)\n", argv[0],
                     all ? "both" : "neither", usage);
        return 2;
    }
    const auto& stream = cl.args[0];
    std::uint64_t seq = 0;
    if (!all) {
        const auto& text = cl.args[1];
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seq);
        if (error != std::errc() || end != text.data() + text.size() || seq == 0)
            throw std::invalid_argument("SEQ is a dead letter's sequence number >= 1 (zmesh dlq ls), not '" + text + "'");
    }
    stream_job job(cl.vm, "dlq", argv[0]);
    if (job.status) return job.status;
    const auto found = job.holders(stream);
    if (found.empty()) return job.no_holder(stream);
    if (!all && found.size() > 1) {
        std::vector<std::string> names;
        for (const auto& h : found) names.push_back(h.member.name);
        return cli::fail(argv[0], "dead letters are numbered per member, and " + cli::list(names) + " hold '" + stream +
                                      "': name one (--node NAME)");
    }
    int status = 0;
    for (const auto& [p, s] : found) {
        const nlohmann::json args = all ? nlohmann::json{{"stream", stream}, {"all", true}}
                                        : nlohmann::json{{"stream", stream}, {"seq", seq}};
        std::uint64_t moved = 0, left = 0;
        // A member moves a bounded number per request: ask again while it moves some.
        for (int round = 0; round < 1000; ++round) {
            const auto a = cli::ask(job.mesh_node(), p.id, "zmesh.dlq.requeue", args, job.timeout);
            if (!a.ok) {
                status = cli::fail(argv[0], cli::describe_error(p.name, a));
                break;
            }
            moved += a.result.value("requeued", 0ull);
            left = a.result.value("left", 0ull);
            if (!all || left == 0 || a.result.value("requeued", 0ull) == 0) break;
        }
        if (status == 0 || moved > 0)
            std::printf("requeued %llu dead letter(s) of %s on %s; %llu left\n", static_cast<unsigned long long>(moved),
                        stream.c_str(), p.name.c_str(), static_cast<unsigned long long>(left));
    }
    return status;
}

}  // namespace

int dlq(int argc, char** argv) {
    static const std::vector<subcommand> subs = {
        {"ls", dlq_ls, "list the dead letters of a stream: sequence, original sequence, attempts, error, payload"},
        {"requeue", dlq_requeue, "send dead letters back into their stream (one SEQ, or --all)"},
    };
    return run_subcommand("dlq", subs, argc, argv);
}

int pub_stored(const cli::po::variables_map& vm, const char* program, const std::string& topic,
               const std::vector<std::uint8_t>& payload) {
    stream_job job(vm, "pub", program);
    if (job.status) return job.status;
    // The members with a stream that takes the topic (--node's, or any).
    std::vector<peer_info> takers;
    std::vector<std::string> seen;
    for (const auto& p : job.targets) {
        const auto a = cli::list_streams(job.mesh_node(), p.id, job.timeout);
        if (!a.ok) {
            if (job.targets.size() == 1) return cli::fail(program, cli::describe_error(p.name, a));
            continue;
        }
        bool takes = false;
        for (const auto& s : a.result["streams"]) {
            const auto prefix = s.value("prefix", "");
            if (!prefix.empty() && topic.starts_with(prefix)) takes = true;
            seen.push_back(s.value("name", "") + " (" + (prefix.empty() ? "-" : prefix) + ") on " + p.name);
        }
        if (takes) takers.push_back(p);
    }
    if (takers.empty())
        return cli::fail(program, "no stream takes topic '" + topic + "' on " +
                                      (job.targets.size() == 1 ? job.targets[0].name : std::string("any member")) +
                                      "; streams: " + (seen.empty() ? "none" : cli::list(seen, 8)));
    if (takers.size() > 1)
        return cli::fail(program, "streams of " + names_of(takers) + " take topic '" + topic +
                                      "', each its own log: name one (--node NAME)");
    const auto& p = takers.front();
    const nlohmann::json args = {{"topic", topic},
                                 {"payload", nlohmann::json::from_msgpack(payload.begin(), payload.end())}};
    const auto a = cli::ask(job.mesh_node(), p.id, "zmesh.stream.publish", args, job.timeout);
    if (!a.ok) return cli::fail(program, cli::describe_error(p.name, a));
    std::fprintf(stderr, "stored on %s in its streams that take %s\n", p.name.c_str(), topic.c_str());
    return 0;
}

}  // namespace zmesh::tool
