// SPDX-License-Identifier: MPL-2.0
// metrics_server: HTTP over a ZMQ_STREAM socket — each connection's bytes arrive as [id][data],
// a connection opening or closing as [id][empty]; sending [id][empty] closes it.
#include "metrics_server.hpp"

#include <map>
#include <stdexcept>

namespace zmesh::detail {

namespace {

const char* reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        default: return "Request Header Fields Too Large";
    }
}

std::string response(const metrics_server::answer& a) {
    const bool metrics = a.status == 200;
    return "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) + "\r\nContent-Type: " +
           (metrics ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8") +
           "\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\nConnection: close\r\n\r\n" + a.body;
}

}  // namespace

std::optional<metrics_server::answer> metrics_server::answer_to(std::string_view head,
                                                                const std::function<std::string()>& text) {
    const auto end = head.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (head.size() >= max_request) return answer{431, "request head too large\n"};
        return std::nullopt;
    }
    const auto line = head.substr(0, head.find("\r\n"));
    const auto first = line.find(' '), second = line.find(' ', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos ||
        !line.substr(second + 1).starts_with("HTTP/1."))
        return answer{400, "not an HTTP/1.x request\n"};
    const auto method = line.substr(0, first);
    auto target = line.substr(first + 1, second - first - 1);
    target = target.substr(0, target.find('?'));
    if (target != "/metrics") return answer{404, "only /metrics is served here\n"};
    if (method != "GET") return answer{405, "GET /metrics\n"};
    return answer{200, text()};
}

metrics_server::metrics_server(const std::string& address, std::function<std::string()> text)
    : text_(std::move(text)), socket_(ctx_, zmq::socket_type::stream) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0)
        throw std::invalid_argument("metrics_endpoint '" + address + "' is not HOST:PORT");
    const auto host = address.substr(0, colon), port = address.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) > 65535)
        throw std::invalid_argument("metrics_endpoint '" + address + "' is not HOST:PORT");
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::stream_notify, 1);   // [id][empty] when a connection opens or closes
    try {
        socket_.bind("tcp://" + host + ":" + port);
    } catch (const zmq::error_t& e) {
        throw std::runtime_error("cannot serve metrics on " + address + ": " + e.what());
    }
    const auto bound = socket_.get(zmq::sockopt::last_endpoint);
    port_ = static_cast<std::uint16_t>(std::stoul(bound.substr(bound.rfind(':') + 1)));
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

metrics_server::~metrics_server() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
}

void metrics_server::run(std::stop_token stop) {
    std::map<std::string, std::string> heads;   // connection id -> what it sent so far
    const auto send = [&](const std::string& id, const std::string& bytes) {
        socket_.send(zmq::buffer(id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    };
    const auto close = [&](const std::string& id) {
        send(id, {});
        heads.erase(id);
    };
    while (!stop.stop_requested()) {
        zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;
        zmq::message_t id_frame, data;
        if (!socket_.recv(id_frame, zmq::recv_flags::dontwait)) continue;
        if (!id_frame.more() || !socket_.recv(data, zmq::recv_flags::dontwait)) continue;
        const std::string id = id_frame.to_string();
        if (data.size() == 0) {   // opened, or closed by the client
            if (heads.erase(id) == 0 && heads.size() < max_connections)
                heads.emplace(id, std::string());
            else if (heads.size() >= max_connections)
                send(id, {});   // too many at once: closed at once
            continue;
        }
        const auto it = heads.find(id);
        if (it == heads.end()) continue;   // refused, or answered already
        it->second.append(data.data<char>(), std::min(data.size(), max_request));
        const auto a = answer_to(it->second, text_);
        if (!a) continue;
        try {
            send(id, response(*a));
        } catch (const zmq::error_t&) {
            // The client went away, or its queue is full: it is closed below all the same.
        }
        close(id);
    }
}

}  // namespace zmesh::detail
