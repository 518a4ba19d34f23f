// SPDX-License-Identifier: MPL-2.0
// stream_poll: the streams of the mesh for zmesh-monitor — each member asked what it holds
// (zmesh.streams, PROTOCOL.md §15) every few seconds, not every frame, and the answers taken
// as they come: a member slow to answer never holds up the view.
#pragma once

#include "stream_admin_client.hpp"

#include <zmesh/node.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace zmesh::monitor {

// One stream as the monitor shows it: its publisher, and what its dead letters hold.
struct stream_row {
    std::string publisher;
    nlohmann::json stream;        // the member's report (name, prefix, first_seq, ... consumers)
    std::uint64_t dead_letters = 0;   // messages in "<name>.dlq" on that member
};

class stream_poll {
public:
    using clock = std::chrono::steady_clock;
    explicit stream_poll(std::chrono::milliseconds every = std::chrono::seconds(5),
                         std::chrono::milliseconds timeout = std::chrono::seconds(2))
        : every_(every), timeout_(timeout) {}

    // Asks the members not asked within `every` (and not still answering), forgets those
    // gone, and takes the answers that came. Never blocks.
    void poll(node& n, const std::vector<peer_info>& members, clock::time_point now);
    // Returns: whether every member in the last poll has answered at least once.
    bool answered_all() const;
    // Returns: the streams of the mesh, by publisher then name; dead-letter streams are
    // folded into their stream's row.
    std::vector<stream_row> rows() const;

    // Takes a member's answer (for tests): its streams, or none for an error.
    void take(const node_id& member, const std::string& name, const cli::admin_answer& a);

private:
    struct member_state {
        std::string name;
        std::optional<std::future<reply>> asking;
        clock::time_point asked{};
        bool answered = false;
        nlohmann::json streams = nlohmann::json::array();
    };
    std::chrono::milliseconds every_, timeout_;
    std::map<node_id, member_state> members_;
};

// Returns: the rows as the JSON document's "streams".
nlohmann::json to_json(const std::vector<stream_row>& rows);
// Returns: the table's lines for the rows: a header, then one line per stream.
std::vector<std::string> stream_lines(const std::vector<stream_row>& rows);

}  // namespace zmesh::monitor
