// SPDX-License-Identifier: MPL-2.0
// web_view: the HTTP server of zmesh-monitor and what it serves.
#include "web_view.hpp"

#include <zmesh/metrics.hpp>
#include "web_page.hpp"

#include <httplib.h>

#include <stdexcept>

namespace zmesh::monitor {

namespace {

// The most topics kept per publisher, and publishers kept: a member publishing ever new
// topics must not grow the monitor without bound.
constexpr std::size_t max_topics_per_publisher = 32;
constexpr std::size_t max_publishers = 1024;

}  // namespace

web_view::web_view(const node& n, const std::string& address) : node_(n), server_(std::make_unique<httplib::Server>()) {
    const auto colon = address.rfind(':');
    int port = -1;
    if (colon != std::string::npos && colon > 0) {
        try {
            std::size_t used = 0;
            port = std::stoi(address.substr(colon + 1), &used);
            if (used != address.size() - colon - 1) port = -1;
        } catch (const std::exception&) {
        }
    }
    if (port < 0 || port > 65535) throw std::invalid_argument("--http '" + address + "' is not HOST:PORT");
    const std::string host = address.substr(0, colon);

    // A browser's idle connection must not hold the monitor's exit for long.
    server_->set_keep_alive_timeout(1);
    server_->Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(mesh_page), "text/html; charset=utf-8");
    });
    server_->Get("/mesh.json", [this](const httplib::Request&, httplib::Response& res) {
        res.set_header("Cache-Control", "no-store");
        res.set_content(mesh_json().dump(), "application/json");
    });
    server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
    });
    port_ = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
    if (port_ < 0) throw std::runtime_error("cannot listen for HTTP on " + address);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
}

web_view::~web_view() { close(); }

void web_view::close() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
}

void web_view::seen(const event& e) {
    std::lock_guard lock(mutex_);
    auto it = published_.find(e.sender());
    if (it == published_.end()) {
        if (published_.size() >= max_publishers) return;
        it = published_.emplace(e.sender(), std::set<std::string>{}).first;
    }
    if (it->second.size() < max_topics_per_publisher) it->second.emplace(e.topic());
}

nlohmann::json web_view::mesh_json() {
    const auto peers = members(node_);
    const auto now = clock_type::now();
    std::lock_guard lock(mutex_);
    std::vector<peer_rates> rates;
    nlohmann::json published = nlohmann::json::object();
    for (const auto& p : peers) {
        rates.push_back(rates_.update(p, now));
        if (const auto it = published_.find(p.id); it != published_.end()) published[p.id.hex()] = it->second;
    }
    auto doc = document(node_.config().mesh, peers, &rates);
    doc["published"] = std::move(published);
    return doc;
}

std::string web_view::metrics_text() { return zmesh::prometheus_text(node_.config().mesh, members(node_)); }

}  // namespace zmesh::monitor
