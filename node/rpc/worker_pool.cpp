// SPDX-License-Identifier: MPL-2.0
// worker_pool: queueing and the choice of worker.
#include "worker_pool.hpp"

#include <algorithm>

namespace zmesh::detail {

void worker_pool::ready(std::string_view worker) {
    const auto known = std::any_of(workers_.begin(), workers_.end(), [&](const slot& s) { return s.id == worker; });
    if (!known) workers_.push_back({std::string(worker), 0});
}

void worker_pool::answered(std::string_view worker) {
    const auto it = std::find_if(workers_.begin(), workers_.end(), [&](const slot& s) { return s.id == worker; });
    if (it != workers_.end() && it->jobs > 0) --it->jobs;
}

std::optional<worker_pool::handover> worker_pool::next(clock::time_point now, std::uint64_t& expired) {
    while (!jobs_.empty() && !workers_.empty()) {
        auto worker = std::min_element(workers_.begin(), workers_.end(),
                                       [](const slot& a, const slot& b) { return a.jobs < b.jobs; });
        if (worker->jobs >= worker_credit) return std::nullopt;
        auto job = std::move(jobs_.front());
        jobs_.pop_front();
        if (job->deadline < now) {
            ++expired;   // the caller has given up: its timeout answers it
            continue;
        }
        ++worker->jobs;
        return handover{worker->id, std::move(job)};
    }
    return std::nullopt;
}

std::vector<std::string> worker_pool::worker_ids() const {
    std::vector<std::string> ids;
    for (const auto& w : workers_) ids.push_back(w.id);
    return ids;
}

}  // namespace zmesh::detail
