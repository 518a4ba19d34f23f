// SPDX-License-Identifier: MPL-2.0
// stats: the one list of counters covers every field of node_stats, counters_of and the STATS
// a node sends carry each of them with its value, and PROTOCOL.md §6.9 lists them as they are.
#include "node_fixture.hpp"

#include "protocol/control.hpp"
#include "support/distinct_stats.hpp"

#include <fstream>
#include <set>
#include <string>

namespace zmesh::test {
namespace {

TEST(node_stats, every_counter_has_one_name_one_field_and_a_meaning) {
    std::set<std::string_view> names;
    for (const auto& c : node_counters) {
        EXPECT_TRUE(names.insert(c.name).second) << c.name;
        EXPECT_FALSE(c.meaning.empty()) << c.name;
        EXPECT_LE(c.name.size(), protocol::max_counter_name_len) << c.name;
        for (const auto& other : node_counters)   // member pointers compare only for equality
            EXPECT_TRUE(&other == &c || other.field != c.field) << c.name << " and " << other.name;
    }
    // The fields are the struct's own: set through the list, read by name.
    const auto s = distinct_stats();
    EXPECT_EQ(s.beacons_sent, first_distinct_value);
    EXPECT_EQ(s.peers_left, first_distinct_value + std::size(node_counters) - 1);
}

TEST(node_stats, counters_of_carries_every_counter_with_its_value_in_list_order) {
    EXPECT_EQ(counters_of(distinct_stats()), distinct_pairs());
}

TEST(node_stats, stats_message_of_every_counter_fits_and_round_trips) {
    const protocol::stats m{counters_of(distinct_stats())};
    std::vector<std::uint8_t> frame;
    ASSERT_NO_THROW(frame = protocol::encode_control(m));
    const auto back = protocol::decode_control(frame);
    ASSERT_TRUE(back);
    EXPECT_EQ(std::get<protocol::stats>(*back).counters, distinct_pairs());
}

TEST_F(node_fixture, a_polling_node_receives_every_counter_of_its_peer) {
    auto o = make_options("asker");
    o.stats_poll = 100ms;
    auto& asker = start(o);
    start("answerer");
    std::vector<std::string> want;
    for (const auto& c : node_counters) want.emplace_back(c.name);
    std::vector<std::string> got;
    EXPECT_TRUE(wait_until([&] {
        const auto peers = asker.peers();
        if (peers.size() != 1) return false;
        got.clear();
        for (const auto& [name, value] : peers[0].reported) got.push_back(name);
        return !got.empty();
    }, 5s));
    EXPECT_EQ(got, want) << "the STATS a node sends names every counter, in list order";
}

// Returns: the (name, meaning) rows of §6.9's table of the reference node's counters.
std::vector<std::pair<std::string, std::string>> protocol_md_counters() {
    std::ifstream in(ZMESH_SOURCE_DIR "/protocol/PROTOCOL.md");
    std::vector<std::pair<std::string, std::string>> rows;
    bool in_section = false, in_table = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("### ")) in_section = line.starts_with("### 6.9 ");
        if (!in_section) continue;
        if (line.starts_with("| Name | Meaning |")) in_table = true;
        if (!in_table || !line.starts_with("| `")) continue;
        const auto name_end = line.find("` | ");
        const auto meaning_end = line.rfind(" |");
        if (name_end == std::string::npos || meaning_end <= name_end + 4) continue;
        rows.emplace_back(line.substr(3, name_end - 3), line.substr(name_end + 4, meaning_end - name_end - 4));
    }
    return rows;
}

TEST(node_stats, protocol_md_lists_every_counter_with_its_meaning_in_order) {
    std::vector<std::pair<std::string, std::string>> want;
    for (const auto& c : node_counters) want.emplace_back(c.name, c.meaning);
    EXPECT_EQ(protocol_md_counters(), want) << "PROTOCOL.md §6.9 and ZMESH_NODE_COUNTERS differ";
}

}  // namespace
}  // namespace zmesh::test
