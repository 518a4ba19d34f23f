// SPDX-License-Identifier: MPL-2.0
// performance_doc: `zmesh-bench report` — runs the standard benchmarks one after another, each
// as its own invocation of this program (so one benchmark's processes never share the machine
// with another's), and writes their figures and ratios as a Markdown document
// (docs/performance.md), with the machine and library they were measured on.
#include "bench.hpp"

#include <sys/utsname.h>
#include <zmq.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

namespace zmesh::bench {

namespace {

struct invocation {
    std::vector<std::string> args;
    const char* what;
};

// The benchmarks users compare zmesh by, in the order the document shows them.
const invocation suite[] = {
    {{"pubsub"}, "events, 64 B, one subscriber"},
    {{"pubsub", "--size", "1024"}, "events, 1 KiB"},
    {{"pubsub", "--subscribers", "4", "--count", "250000"}, "events to 4 subscribers"},
    {{"pubsub", "--handler", "threads"}, "events, handlers on the delivery thread (the default API)"},
    {{"pubsub", "--secure"}, "events, encrypted (zmesh secured against raw CURVE)"},
    {{"rpc"}, "RPC, 64 B: sequential round trips, then 100 outstanding"},
    {{"rpc", "--handler", "threads"}, "RPC with handlers on worker threads (the default API)"},
    {{"discovery"}, "discovery: 32 node processes started at once"},
    {{"codec"}, "codecs: the event header and payload check"},
    {{"durable", "--count", "20000"}, "durable streams: records stored per second against raw SQLite; end to end against JetStream"},
};

std::string first_line_of(const char* path, const char* key) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(key)) return line.substr(line.find(':') + 2);
    return "unknown";
}

std::string machine() {
    utsname u{};
    ::uname(&u);
    int major = 0, minor = 0, patch = 0;
    zmq_version(&major, &minor, &patch);
    std::ostringstream out;
    out << "- CPU: " << first_line_of("/proc/cpuinfo", "model name") << ", " << std::thread::hardware_concurrency()
        << " cores\n- Linux " << u.release << " " << u.machine << "; libzmq " << major << "." << minor << "."
        << patch << "\n";
    return out.str();
}

// Returns: the JSON report the benchmark printed, run as a child of this process.
nlohmann::json measure(const settings& s, const invocation& what) {
    auto args = what.args;
    args.insert(args.end(), {"--json", "--runs", std::to_string(s.runs), "--timeout", std::to_string(s.timeout.count()),
                             "--interface", s.interface});
    child c(args);
    c.close_stdin();
    const auto deadline = clock::now() + s.timeout * 10;
    std::string last;
    while (const auto line = c.read_line(deadline)) last = *line;
    if (c.wait(deadline) != 0) throw std::runtime_error("zmesh-bench " + what.args.front() + " failed");
    return nlohmann::json::parse(last);
}

std::string section(const invocation& what, const nlohmann::json& r) {
    std::ostringstream out;
    out << "\n## " << what.what << "\n\n```sh\nzmesh-bench";
    for (const auto& a : what.args) out << ' ' << a;
    out << "\n```\n";
    // One table per baseline: the report's, then each a metric names (JetStream, ...).
    const auto against = [&](const nlohmann::json& m) { return m.value("baseline", r.value("baseline", "raw libzmq")); };
    std::vector<std::string> baselines;
    for (const auto& [key, m] : r["metrics"].items())
        if (!m.contains("baseline")) {
            baselines.push_back(against(m));
            break;
        }
    for (const auto& [key, m] : r["metrics"].items())
        if (std::find(baselines.begin(), baselines.end(), against(m)) == baselines.end()) baselines.push_back(against(m));
    for (const auto& baseline : baselines) {
        out << "\n| figure | zmesh | " << baseline << " | ratio | runs (zmesh) |\n|---|---|---|---|---|\n";
        for (const auto& [key, m] : r["metrics"].items()) {
            if (against(m) != baseline) continue;
            out << "| " << key << (m.value("higher_is_better", true) ? "" : " (lower is better)") << " | "
                << figure(m["zmesh"].get<double>()) << " | "
                << (m.contains("raw") ? figure(m["raw"].get<double>()) : "–") << " | ";
            if (m.contains("ratio")) {
                char ratio[16];
                std::snprintf(ratio, sizeof ratio, "%.2f", m["ratio"].get<double>());
                out << ratio;
            } else {
                out << "–";
            }
            out << " |";
            for (const auto& v : m["zmesh_runs"]) out << ' ' << figure(v.get<double>());
            out << " |\n";
        }
    }
    for (const auto& [side, facts] : r.items())
        if (side != "metrics" && side != "params" && side != "bench" && side != "baseline")
            out << "\n" << side << ": `" << facts.dump() << "`\n";
    return out.str();
}

}  // namespace

int run_report(const settings& s) {
    const auto path = s.get<std::string>("out");
    std::ostringstream doc;
    char date[32];
    const auto now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::string load;
    std::getline(std::ifstream("/proc/loadavg"), load);
    doc << "# zmesh performance\n\nMade by `zmesh-bench report` on " << date
        << ", one benchmark after the other, on:\n\n"
        << machine() << "- load average when it started: " << load.substr(0, load.find(' ', load.find(' ', load.find(' ') + 1) + 1))
        << " (the figures mean little unless it was near 0)\n"
        << "\nEach benchmark runs zmesh and the raw libzmq program of the same shape (same message size and count, "
           "same queues) as separate processes over TCP loopback, back to back, in each of "
        << s.runs
        << " run(s); each figure is the median of the runs, and each ratio the median of the runs' own "
           "zmesh / raw (the two sides of a run are measured minutes apart at most, while this machine's speed "
           "drifts between runs). Ratios above 1 are zmesh ahead where higher is better.\n";
    for (const auto& what : suite) {
        progress("report: " + std::string(what.what));
        doc << section(what, measure(s, what));
    }
    std::ofstream out(path);
    if (!(out << doc.str())) throw std::runtime_error("cannot write " + path);
    progress("report written to " + path);
    return 0;
}

}  // namespace zmesh::bench
