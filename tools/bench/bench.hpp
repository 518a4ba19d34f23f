// SPDX-License-Identifier: MPL-2.0
// bench: what every zmesh-bench subcommand shares — its settings, the options of the nodes
// it runs, the figures it collects (zmesh and the raw libzmq baseline, run by run) and the
// report it prints from them.
#pragma once

#include "child.hpp"

#include <zmesh/node.hpp>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace zmesh::bench {

namespace po = boost::program_options;

// The options of one run of the program, parent or peer.
struct settings {
    po::variables_map vm;
    int runs = 3;                  // report the median of this many
    bool json = false;
    std::string mesh;              // private to this invocation
    std::uint16_t beacon_port = 0;
    std::string interface = "lo";
    std::chrono::seconds timeout{60};   // for any one step; then the run fails

    template <class T>
    T get(const char* key) const { return vm[key].as<T>(); }
    clock::time_point deadline() const { return clock::now() + timeout; }
    // Returns: the flags a peer process needs to join this invocation's mesh.
    std::vector<std::string> peer_args(const std::string& role) const;
};

// Returns: options for a node of this invocation: loopback only, its own mesh.
options node_options(const settings& s, const std::string& name);
// Returns: where --handler says zmesh runs handlers and callbacks.
run_on where(const settings& s);

// One figure, measured for zmesh and for the raw libzmq baseline in each run.
struct metric {
    std::string key;               // JSON name, e.g. "events_per_s"
    std::string label;             // for people, e.g. "events/s"
    bool higher_is_better = true;
    std::vector<double> zmesh;     // one per run
    std::vector<double> raw;       // one per run; empty when libzmq has no such figure
    std::string baseline;          // what `raw` is, when not the report's baseline ("": it is)
};

class report {
public:
    report(std::string bench, nlohmann::json params) : bench_(std::move(bench)), params_(std::move(params)) {}

    // Names what the "raw" side is, when it is not raw libzmq.
    void baseline(std::string name) { baseline_ = std::move(name); }
    // Returns: the metric `key`, added on first use.
    metric& at(const std::string& key, const std::string& label, bool higher_is_better = true);
    // Facts beside the figures (e.g. events lost, per-node RSS), under "zmesh" or "raw".
    nlohmann::json& extra(const std::string& side) { return extra_[side]; }

    // Prints a table on stdout, or with `json` one JSON object: params, and per metric the
    // median of each side, their ratio (zmesh / raw) and every run. A metric with a baseline
    // of its own is printed under a heading naming it, and carries it in the JSON.
    void print(bool json) const;
    nlohmann::json to_json() const;

private:
    std::string bench_;
    std::string baseline_ = "raw libzmq";
    nlohmann::json params_;
    std::deque<metric> metrics_;   // at() hands out references: they must stay put
    std::map<std::string, nlohmann::json> extra_;
};

// Returns: `v` for people: "3.12 M", "550.0 k", "72.1".
std::string figure(double v);
// Returns: the median of `values` (0 for none).
double median(std::vector<double> values);
// Returns: the `p` percentile (0..100) of `values`, nearest rank (0 for none).
double percentile(std::vector<double> values, double p);

// A progress line on stderr, for runs that take more than a moment.
void progress(const std::string& line);

// A private directory (mode 0700) under the system's temp directory, named `prefix` and a
// random suffix; removed with everything in it when this is destroyed. Throws
// std::runtime_error when it cannot be made.
class temp_dir {
public:
    explicit temp_dir(const std::string& prefix);
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Returns: `args` followed by `more`.
std::vector<std::string> args_with(std::vector<std::string> args, const std::vector<std::string>& more);

// Returns: the JSON after "result " from `c`, or throws naming `what`.
nlohmann::json expect_result(child& c, clock::time_point deadline, const std::string& what);

// Closes every child's stdin and waits for them; throws when one failed.
void stop_all(std::vector<std::unique_ptr<child>>& children, clock::time_point deadline);

// The subcommands, and the peer roles each runs as child processes (by name).
using roles = std::map<std::string, std::function<int(const settings&)>>;
int run_pubsub(const settings& s);
int run_rpc(const settings& s);
int run_discovery(const settings& s);
int run_codec(const settings& s);
int run_durable(const settings& s);
// `report`: every standard benchmark, written to --out as Markdown.
int run_report(const settings& s);
roles pubsub_roles();
roles rpc_roles();
roles discovery_roles();

}  // namespace zmesh::bench
