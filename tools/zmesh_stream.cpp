// SPDX-License-Identifier: MPL-2.0
// zmesh stream: the durable streams of the mesh's members listed, shown, added and removed
// through each member's reserved methods (PROTOCOL.md §15); and the short-lived observer
// that zmesh stream, zmesh dlq and zmesh pub --stream share to find the members to ask.
#include "commands.hpp"
#include "stream_admin_client.hpp"
#include "suggest.hpp"

#include <cstdio>
#include <cstring>
#include <iostream>

namespace zmesh::tool {

// ---- the job they share -------------------------------------------------------------------

void add_stream_job_flags(cli::po::options_description& desc) {
    desc.add_options()("node", cli::po::value<std::string>(), "the member to ask (by name, or by its 32-hex-digit id)")(
        "timeout", cli::po::value<std::string>()->default_value("5000"), "ms to wait for each member's answer, or with a unit (2s)");
    add_wait_flag(desc);
}

stream_job::stream_job(const cli::po::variables_map& vm, const char* command, const char* program)
    : timeout(cli::duration_flag(vm, "timeout", milliseconds(1))),
      program_(program),
      member_(vm.count("node") ? vm["node"].as<std::string>() : ""),
      o_(job_options(vm, command, false)),
      n_(o_),
      listener_(o_, n_.id()) {
    if (timeout.count() <= 0) throw std::invalid_argument("--timeout must be > 0");
    const auto start = steady::now();
    const auto id = node_id::from_hex(member_);
    n_.start();
    std::vector<peer_info> named;
    const auto view = cli::await_view(n_, cli::settle_rules_for(o_), start, milliseconds(0), wait_flag(vm),
        [&](const std::vector<peer_info>& peers, const cli::settle_tracker& t, steady::time_point now) {
            if (member_.empty()) return false;   // every member: wait for the view to settle
            named.clear();
            for (const auto& p : cli::members_of(peers))
                if (id ? p.id == *id : p.name == member_) named.push_back(p);
            return !named.empty() && (id || t.quiet_for(milliseconds(150), now));
        }, &listener_);
    if (view.outcome == cli::view_outcome::interrupted) {
        status = cli::interrupted_status(view.signal);
        return;
    }
    const auto members = cli::members_of(view.peers);
    if (members.empty()) {
        status = cli::fail(program_, cli::why_no_members(o_, listener_) + cli::unsettled_note(view));
        return;
    }
    if (member_.empty()) {
        targets = members;
        return;
    }
    if (named.empty()) {
        std::vector<std::string> names;
        for (const auto& p : members) names.push_back(p.name);
        status = cli::fail(program_, "no member " + std::string(id ? "with id '" : "named '") + member_ + "'" +
                                         (id ? "" : cli::did_you_mean(cli::closest(member_, names))) +
                                         "; members: " + cli::list(names));
        return;
    }
    if (named.size() > 1) {
        status = cli::fail(program_, std::to_string(named.size()) + " members are named '" + member_ +
                                         "': name one by its id (--node ID; zmesh ls shows them)");
        return;
    }
    targets = named;
}

std::vector<stream_job::holder> stream_job::holders(const std::string& stream) {
    std::vector<holder> out;
    for (const auto& p : targets) {
        auto a = cli::ask(n_, p.id, "zmesh.streams", {{"stream", stream}}, timeout);
        if (a.ok && !a.result["streams"].empty()) out.push_back({p, a.result["streams"][0]});
        else if (!a.ok) errors.push_back({p, std::move(a)});
    }
    return out;
}

int stream_job::no_holder(const std::string& stream) {
    std::vector<std::string> names;
    for (const auto& p : targets) {
        const auto a = cli::list_streams(n_, p.id, timeout);
        if (a.ok)
            for (const auto& s : a.result["streams"]) names.push_back(s.value("name", ""));
    }
    std::string line = "no stream '" + stream + "' on " + (member_.empty() ? "any member" : "member '" + member_ + "'") +
                       cli::did_you_mean(cli::closest(stream, names));
    // Asked of every member, those without streams are no news; asked of one, its reason is.
    for (const auto& [p, a] : errors)
        if (a.code != cli::admin_no_such_stream &&
            (!member_.empty() || (a.code != cli::admin_no_data_dir && a.code != cli::admin_no_such_method)))
            line += "; " + cli::describe_error(p.name, a);
    return cli::fail(program_, line);
}

// ---- zmesh stream ls | info | add | rm ----------------------------------------------------

namespace {

const char* const about =
    "Lists, shows, adds and removes the durable streams of the mesh's members, through each\n"
    "member's reserved methods (zmesh.streams, zmesh.stream.add, zmesh.stream.rm). Any member\n"
    "with a data directory answers a listing; it takes add and rm only when it allows them\n"
    "(zmesh-node --stream-admin). Joins as an observer.\n"
    "Exit: 0 done; 1 no member answered, no such member or stream, the member refused (its\n"
    "error, with its code, on stderr) or a bad value; 2 bad flags or subcommand.";

std::string n(const nlohmann::json& j, const char* key) { return std::to_string(j.value(key, 0ull)); }

nlohmann::json tagged(const peer_info& p, nlohmann::json s) {
    s["node"] = p.name;
    s["id"] = p.id.hex();
    return s;
}

int stream_ls(int argc, char** argv) {
    cli::po::options_description own("zmesh stream ls options");
    own.add_options()("json", "print one JSON object: {mesh, streams: [{node, id, name, prefix, ...}], errors}");
    add_stream_job_flags(own);
    const auto cl = cli::parse(argc, argv, {argv[0], "zmesh stream ls [--node NAME] [options]", about, {}, true, "warn"}, own);
    stream_job job(cl.vm, "stream", argv[0]);
    if (job.status) return job.status;
    nlohmann::json out = {{"mesh", job.mesh()}, {"streams", nlohmann::json::array()}, {"errors", nlohmann::json::array()}};
    std::vector<std::vector<std::string>> rows = {{"NODE", "STREAM", "PREFIX", "FIRST", "LAST", "MESSAGES", "BYTES", "CONSUMERS"}};
    bool any = false;
    for (const auto& p : job.targets) {
        const auto a = cli::list_streams(job.mesh_node(), p.id, job.timeout);
        if (!a.ok) {
            // Members without a data directory, or of a revision before §15, hold no streams.
            const bool none = a.code == cli::admin_no_data_dir || a.code == cli::admin_no_such_method;
            if (none && job.targets.size() > 1) continue;
            out["errors"].push_back({{"node", p.name}, {"code", a.code}, {"error", a.error}});
            if (!cl.vm.count("json")) std::fprintf(stderr, "%s: error: %s\n", argv[0], cli::describe_error(p.name, a).c_str());
            continue;
        }
        any = true;
        for (const auto& s : a.result["streams"]) {
            std::string consumers;
            for (const auto& c : s["consumers"])
                consumers += (consumers.empty() ? "" : ", ") + c.value("name", "") + " (" + n(c, "pending") + " pending)";
            rows.push_back({p.name, s.value("name", ""), s.value("prefix", "").empty() ? "-" : s.value("prefix", ""),
                            n(s, "first_seq"), n(s, "last_seq"), n(s, "messages"), n(s, "bytes"),
                            consumers.empty() ? "-" : consumers});
            out["streams"].push_back(tagged(p, s));
        }
    }
    if (cl.vm.count("json")) {
        std::cout << out.dump() << std::endl;
    } else if (rows.size() == 1) {
        if (any) std::cout << "no member holds a stream\n";
    } else {
        cli::print_table(rows);
    }
    return out["errors"].empty() ? 0 : 1;
}

int stream_info(int argc, char** argv) {
    cli::po::options_description own("zmesh stream info options");
    own.add_options()("json", "print one JSON object: {stream, nodes: [{node, id, prefix, ..., consumers}]}");
    add_stream_job_flags(own);
    const auto cl = cli::parse(argc, argv, {argv[0], "zmesh stream info NAME [--node NAME] [options]", about, {"NAME"}, true, "warn"}, own);
    const auto& name = cl.args[0];
    stream_job job(cl.vm, "stream", argv[0]);
    if (job.status) return job.status;
    const auto found = job.holders(name);
    if (found.empty()) return job.no_holder(name);
    if (cl.vm.count("json")) {
        nlohmann::json out = {{"stream", name}, {"nodes", nlohmann::json::array()}};
        for (const auto& [p, s] : found) out["nodes"].push_back(tagged(p, s));
        std::cout << out.dump() << std::endl;
        return 0;
    }
    for (const auto& [p, s] : found) {
        std::cout << cli::describe_stream(s) << " on " << p.name << " (" << p.id.short_hex() << ")\n";
        std::cout << "  limits: max_messages " << n(s, "max_messages") << ", max_bytes " << n(s, "max_bytes")
                  << ", max_age_ms " << n(s, "max_age_ms") << " (0: none); dead letters in " << s.value("dlq", "") << "\n";
        std::vector<std::vector<std::string>> rows = {
            {"CONSUMER", "MEMBERS", "POSITION", "PENDING", "IN_FLIGHT", "REDELIVERIES", "DEAD_LETTERS"}};
        for (const auto& c : s["consumers"])
            rows.push_back({c.value("name", ""), n(c, "members"), n(c, "position"), n(c, "pending"), n(c, "in_flight"),
                            n(c, "redeliveries"), n(c, "dead_letters")});
        if (rows.size() == 1) std::cout << "  no consumer\n";
        else cli::print_table(rows, "  ");
    }
    return 0;
}

// Returns: 2 after "missing FLAG" for a subcommand that needs it.
int missing(const char* program, const char* flag, const char* usage) {
    std::fprintf(stderr, "%s: error: missing %s (usage: %s; see --help)\n", program, flag, usage);
    return 2;
}

int stream_add(int argc, char** argv) {
    const char* usage = "zmesh stream add NAME --prefix P --node NAME [--max-messages N] [--max-bytes N] [--max-age D]";
    cli::po::options_description own("zmesh stream add options");
    // clang-format off
    own.add_options()
        ("prefix", cli::po::value<std::string>(), "the topics the stream takes: those starting with P (1..255 bytes)")
        ("max-messages", cli::po::value<std::uint64_t>()->default_value(0), "keep at most this many messages (0: no limit)")
        ("max-bytes", cli::po::value<std::uint64_t>()->default_value(0), "keep at most this many bytes of payloads (0: no limit)")
        ("max-age", cli::po::value<std::string>()->default_value("0"), "keep messages this many seconds, or with a unit (500ms) (0: no limit)");
    // clang-format on
    add_stream_job_flags(own);
    const auto cl = cli::parse(argc, argv, {argv[0], usage, about, {"NAME"}, true, "warn"}, own);
    const auto& vm = cl.vm;
    if (!vm.count("prefix")) return missing(argv[0], "--prefix P", usage);
    if (!vm.count("node")) return missing(argv[0], "--node NAME", usage);
    const nlohmann::json args = {{"name", cl.args[0]}, {"prefix", vm["prefix"].as<std::string>()},
                                 {"max_messages", vm["max-messages"].as<std::uint64_t>()},
                                 {"max_bytes", vm["max-bytes"].as<std::uint64_t>()},
                                 {"max_age_ms", cli::duration_flag(vm, "max-age", milliseconds(1000)).count()}};
    stream_job job(vm, "stream", argv[0]);
    if (job.status) return job.status;
    const auto& p = job.targets.front();
    const auto a = cli::ask(job.mesh_node(), p.id, "zmesh.stream.add", args, job.timeout);
    if (!a.ok) return cli::fail(argv[0], cli::describe_error(p.name, a));
    std::printf("added %s on %s\n", cli::describe_stream(a.result).c_str(), p.name.c_str());
    return 0;
}

int stream_rm(int argc, char** argv) {
    const char* usage = "zmesh stream rm NAME --node NAME";
    cli::po::options_description own("zmesh stream rm options");
    add_stream_job_flags(own);
    const auto cl = cli::parse(argc, argv, {argv[0], usage, about, {"NAME"}, true, "warn"}, own);
    if (!cl.vm.count("node")) return missing(argv[0], "--node NAME", usage);
    stream_job job(cl.vm, "stream", argv[0]);
    if (job.status) return job.status;
    const auto& p = job.targets.front();
    const auto a = cli::ask(job.mesh_node(), p.id, "zmesh.stream.rm", {{"name", cl.args[0]}}, job.timeout);
    if (!a.ok) return cli::fail(argv[0], cli::describe_error(p.name, a));
    std::printf("removed stream %s on %s%s\n", cl.args[0].c_str(), p.name.c_str(),
                a.result.value("dead_letters_removed", 0) ? ", with its dead letters" : "");
    return 0;
}

}  // namespace

int run_subcommand(const char* command, const std::vector<subcommand>& subs, int argc, char** argv) {
    const auto usage = [&](std::FILE* to) {
        std::fprintf(to, "usage: zmesh %s SUBCOMMAND [options]   (zmesh %s SUBCOMMAND --help for its options)\n\n", command, command);
        for (const auto& s : subs) std::fprintf(to, "  %-8s %s\n", s.name, s.what);
        return to == stdout ? 0 : 2;
    };
    if (argc < 2) return usage(stderr);
    if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) return usage(stdout);
    std::vector<std::string> names;
    for (const auto& s : subs) {
        names.emplace_back(s.name);
        if (std::strcmp(argv[1], s.name) != 0) continue;
        std::string program = std::string(argv[0]) + " " + s.name;
        std::vector<char*> args{program.data()};
        args.insert(args.end(), argv + 2, argv + argc);
        try {
            return s.run(static_cast<int>(args.size()), args.data());
        } catch (const std::exception& e) {
            return cli::fail(program.c_str(), e.what());
        }
    }
    std::fprintf(stderr, "%s: error: unknown subcommand '%s'%s (see zmesh %s --help)\n", argv[0], argv[1],
                 cli::did_you_mean(cli::closest(argv[1], names)).c_str(), command);
    return 2;
}

int stream(int argc, char** argv) {
    static const std::vector<subcommand> subs = {
        {"ls", stream_ls, "list the streams of every member (or of --node)"},
        {"info", stream_info, "one stream: its limits and consumers (position, pending, in flight, dead letters)"},
        {"add", stream_add, "declare a stream on --node (it must allow it: zmesh-node --stream-admin)"},
        {"rm", stream_rm, "remove a stream, its messages and dead letters from --node"},
    };
    return run_subcommand("stream", subs, argc, argv);
}

}  // namespace zmesh::tool
