// SPDX-License-Identifier: MPL-2.0
#include "bench.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace zmesh::bench {

std::vector<std::string> settings::peer_args(const std::string& role) const {
    std::vector<std::string> args{"_role", role, "--mesh", mesh, "--beacon-port", std::to_string(beacon_port),
                                  "--interface", interface, "--timeout", std::to_string(timeout.count())};
    if (get<bool>("gossip")) args.push_back("--gossip");
    return args;
}

run_on where(const settings& s) {
    return s.get<std::string>("handler") == "threads" ? run_on::handler_thread : run_on::reactor;
}

options node_options(const settings& s, const std::string& name) {
    options o;
    o.name = name;
    o.mesh = s.mesh;
    o.beacon_port = s.beacon_port;
    o.interface = s.interface;
    o.bind = "127.0.0.1";
    o.log = log_level::error;   // a killed peer is expected here, not news
    o.gossip = s.get<bool>("gossip");
    return o;
}

metric& report::at(const std::string& key, const std::string& label, bool higher_is_better) {
    for (auto& m : metrics_)
        if (m.key == key) return m;
    metrics_.push_back({key, label, higher_is_better, {}, {}, {}});
    return metrics_.back();
}

namespace {

// Each run's zmesh / raw, the two measured back to back: on a box whose speed drifts between
// invocations, the pair shares the drift and its ratio does not.
std::vector<double> run_ratios(const metric& m) {
    std::vector<double> out;
    if (m.zmesh.size() != m.raw.size()) return out;
    for (std::size_t i = 0; i < m.raw.size(); ++i)
        if (m.raw[i] != 0) out.push_back(m.zmesh[i] / m.raw[i]);
    return out;
}

// The median of the runs' own ratios; without pairs, the ratio of the medians.
double ratio_of(const metric& m) {
    const auto runs = run_ratios(m);
    if (!runs.empty()) return median(runs);
    const double raw = median(m.raw);
    return raw != 0 ? median(m.zmesh) / raw : 0.0;
}

}  // namespace

nlohmann::json report::to_json() const {
    nlohmann::json j{{"bench", bench_}, {"baseline", baseline_}, {"params", params_}};
    for (const auto& m : metrics_) {
        nlohmann::json f{{"zmesh", median(m.zmesh)}, {"zmesh_runs", m.zmesh},
                         {"higher_is_better", m.higher_is_better}};
        if (!m.baseline.empty()) f["baseline"] = m.baseline;
        if (!m.raw.empty()) {
            const double raw = median(m.raw);
            f["raw"] = raw;
            f["raw_runs"] = m.raw;
            f["ratio"] = ratio_of(m);
            f["ratio_runs"] = run_ratios(m);
        }
        j["metrics"][m.key] = f;
    }
    for (const auto& [side, facts] : extra_) j[side] = facts;
    return j;
}

std::string figure(double v) {
    char buf[64];
    if (v >= 1e6)
        std::snprintf(buf, sizeof buf, "%.3f M", v / 1e6);
    else if (v >= 1e4)
        std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

void report::print(bool json) const {
    if (json) {
        std::cout << to_json().dump() << std::endl;
        return;
    }
    std::printf("%s  %s  (medians of %zu runs; ratio: the median of each run's zmesh/raw)\n",
                bench_.c_str(), params_.dump().c_str(),
                metrics_.empty() ? 0 : metrics_.front().zmesh.size());
    const std::string* heading = nullptr;
    for (const auto& m : metrics_) {
        // A heading for each run of metrics against one baseline.
        const auto& against = m.baseline.empty() ? baseline_ : m.baseline;
        if (!heading || *heading != against) {
            std::printf("  %-26s %14s %14s %8s\n", "", "zmesh", against.c_str(), "ratio");
            heading = &against;
        }
        const double z = median(m.zmesh);
        // No baseline, or one of nothing (a raw process idles at 0% CPU): no ratio to print.
        if (m.raw.empty() || (run_ratios(m).empty() && median(m.raw) == 0)) {
            const auto raw = m.raw.empty() ? std::string("-") : figure(median(m.raw));
            std::printf("  %-26s %14s %14s %8s\n", m.label.c_str(), figure(z).c_str(), raw.c_str(), "-");
            continue;
        }
        std::printf("  %-26s %14s %14s %7.2fx\n", m.label.c_str(), figure(z).c_str(),
                    figure(median(m.raw)).c_str(), ratio_of(m));
    }
    for (const auto& [side, facts] : extra_) std::printf("  %s: %s\n", side.c_str(), facts.dump().c_str());
    std::fflush(stdout);
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

void progress(const std::string& line) {
    std::cerr << "zmesh-bench: " << line << std::endl;
}

temp_dir::temp_dir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot make a directory " + tmpl + ": " + std::strerror(errno));
    path_ = tmpl;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::vector<std::string> args_with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

nlohmann::json expect_result(child& c, clock::time_point deadline, const std::string& what) {
    const auto text = c.expect("result", deadline, what);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
        throw std::runtime_error(what + ": unreadable result '" + text + "'");
    }
}

void stop_all(std::vector<std::unique_ptr<child>>& children, clock::time_point deadline) {
    for (auto& c : children) c->close_stdin();
    std::string failed;
    for (auto& c : children) {
        const int status = c->wait(deadline);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed += ' ';   // not " " + ...: GCC 12 warns (-Wrestrict) wrongly
            failed += std::to_string(c->pid());
        }
    }
    children.clear();
    if (!failed.empty()) throw std::runtime_error("peer process(es) failed:" + failed);
}

}  // namespace zmesh::bench
