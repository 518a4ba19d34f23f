// SPDX-License-Identifier: MPL-2.0
// streams_fixture: a durable stream across real processes: zmesh-node publishing into it from
// a data directory, zmesh consume processes consuming it, and what they handed, read back
// from their output.
#pragma once

#include "system_fixture.hpp"

#include <charconv>
#include <filesystem>
#include <map>
#include <string_view>

namespace zmesh::test {

// One line of zmesh consume: "SEQ ATTEMPT PUBLISHER PAYLOAD-JSON".
struct handed {
    std::uint64_t seq = 0;
    std::uint32_t attempt = 0;
    std::string publisher;
    nlohmann::json payload;
};

class streams_fixture : public system_fixture {
protected:
    streams_fixture() { std::filesystem::create_directories(dir_); }
    ~streams_fixture() override {
        procs_.clear();   // killed before their directory goes
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // Every process of these tests: beacons often, so that a restarted publisher is found
    // again soon.
    std::vector<std::string> on_mesh(std::vector<std::string> args) const {
        args.insert(args.end(), {"--mesh", mesh_, "--beacon-port", std::to_string(beacon_port_),
                                 "--beacon-interval", "250ms"});
        return args;
    }

    // Starts zmesh-node "pub" on this test's data directory with the stream jobs=jobs.,
    // publishing `count` stored events on jobs.run at `rate` per second.
    process& spawn_publisher(const std::string& rate, const std::string& count) {
        return spawn_node("pub", {"--data-dir", (dir_ / "pub").string(), "--stream", "jobs=jobs.", "--publish",
                                  "jobs.run", "--rate", rate, "--count", count, "--beacon-interval", "250ms"});
    }

    // Starts zmesh consume STREAM --name NAME with `extra` flags.
    process& spawn_consumer(std::vector<std::string> extra, const std::string& stream = "jobs",
                            const std::string& name = "workers") {
        std::vector<std::string> args{"consume", stream, "--name", name};
        args.insert(args.end(), extra.begin(), extra.end());
        procs_.push_back(std::make_unique<process>(tool("zmesh"), on_mesh(std::move(args))));
        return *procs_.back();
    }

    // Returns: the messages `p` printed, in order. A line cut short by a kill is skipped.
    static std::vector<handed> handed_by(const process& p) {
        std::vector<handed> out;
        for (const auto& line : p.out_lines()) {
            const auto a = line.find(' '), b = line.find(' ', a + 1), c = line.find(' ', b + 1);
            if (c == std::string::npos) continue;
            handed h;
            const std::string_view text(line);
            if (std::from_chars(line.data(), line.data() + a, h.seq).ec != std::errc() ||
                std::from_chars(line.data() + a + 1, line.data() + b, h.attempt).ec != std::errc())
                continue;
            h.publisher = line.substr(b + 1, c - b - 1);
            h.payload = nlohmann::json::parse(text.substr(c + 1), nullptr, false);
            if (h.payload.is_discarded()) continue;
            out.push_back(std::move(h));
        }
        return out;
    }

    // Returns: what all of `ps` printed.
    static std::vector<handed> handed_by(const std::vector<process*>& ps) {
        std::vector<handed> all;
        for (const auto* p : ps) {
            auto some = handed_by(*p);
            all.insert(all.end(), some.begin(), some.end());
        }
        return all;
    }

    // Returns: seq -> attempts handed, across all of `ps`.
    static std::map<std::uint64_t, std::vector<std::uint32_t>> attempts_of(const std::vector<process*>& ps) {
        std::map<std::uint64_t, std::vector<std::uint32_t>> out;
        for (const auto& h : handed_by(ps)) out[h.seq].push_back(h.attempt);
        return out;
    }

    std::filesystem::path dir_ = std::filesystem::temp_directory_path() / ("zmesh-streams-" + mesh_);
};

}  // namespace zmesh::test
