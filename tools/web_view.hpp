// SPDX-License-Identifier: MPL-2.0
// web_view: zmesh-monitor over HTTP — /metrics (Prometheus text), /mesh.json (the members,
// their rates and what each publishes) and / (a page that draws the mesh live from it).
#pragma once

#include "monitor_view.hpp"
#include <zmesh/node.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace zmesh::monitor {

class web_view {
public:
    // Serves `n`'s view of its mesh at `address` (HOST:PORT; port 0: any free one) on a
    // thread of its own. Throws std::invalid_argument for a bad address and
    // std::runtime_error when it cannot listen.
    web_view(const node& n, const std::string& address);
    ~web_view();
    web_view(const web_view&) = delete;
    web_view& operator=(const web_view&) = delete;

    // The port it listens on.
    int port() const noexcept { return port_; }
    // Stops serving and waits for requests being answered (they read the node: before it
    // stops). Also done on destruction.
    void close();
    // An event the monitor received: its sender publishes its topic (bounded per sender).
    void seen(const event& e);

private:
    nlohmann::json mesh_json();
    std::string metrics_text();

    const node& node_;
    std::unique_ptr<httplib::Server> server_;
    int port_ = 0;
    std::thread thread_;
    std::mutex mutex_;   // the HTTP threads and the event handler
    rate_tracker rates_;
    std::map<node_id, std::set<std::string>> published_;
};

}  // namespace zmesh::monitor
