// SPDX-License-Identifier: MPL-2.0
// zmesh_job: what the short-lived zmesh commands share.
#include "commands.hpp"
#include "suggest.hpp"

#include <algorithm>
#include <unistd.h>

namespace zmesh::tool {

options job_options(const cli::po::variables_map& vm, const char* command, bool member) {
    auto o = cli::node_options(vm);
    if (!vm.count("name")) o.name = std::string(command) + "-" + std::to_string(getpid());
    o.observer = !member;
    return o;
}

void add_wait_flag(cli::po::options_description& desc) {
    desc.add_options()("wait", cli::po::value<std::string>()->default_value("10"),
                       "the most seconds to wait for the view of the mesh to settle, or with a unit (500ms); "
                       "it decides as soon as it has: a beacon interval, less once a member answered or, as an observer, once "
                       "its questions had time to be answered");
}

milliseconds wait_flag(const cli::po::variables_map& vm) {
    return cli::duration_flag(vm, "wait", milliseconds(1000));
}

std::string names_of(const std::vector<peer_info>& peers, std::size_t max) {
    std::vector<std::string> names;
    for (const auto& p : peers) names.push_back(p.name);
    return cli::list(names, max);
}

bool subscribes_to(const peer_info& p, std::string_view topic) {
    return p.subscriptions_known && std::any_of(p.subscriptions.begin(), p.subscriptions.end(),
                                                [&](const std::string& prefix) { return topic.starts_with(prefix); });
}

}  // namespace zmesh::tool
