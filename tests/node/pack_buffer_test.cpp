// SPDX-License-Identifier: MPL-2.0
// pack_buffer: what call() packs arguments into. It must hold exactly what msgpack-cxx
// writes, across however many writes and growths, and start empty after clear or release.
#include <zmesh/pack_buffer.hpp>

#include <msgpack.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace zmesh::test {
namespace {

template <class T>
std::vector<std::uint8_t> packed_by_msgpack(const T& value) {
    msgpack::sbuffer reference;
    msgpack::pack(reference, value);
    return {reinterpret_cast<const std::uint8_t*>(reference.data()),
            reinterpret_cast<const std::uint8_t*>(reference.data()) + reference.size()};
}

template <class T>
std::vector<std::uint8_t> packed(pack_buffer& b, const T& value) {
    b.clear();
    msgpack::pack(b, value);
    return {b.bytes().begin(), b.bytes().end()};
}

TEST(pack_buffer, holds_what_msgpack_writes_through_many_writes_and_growths) {
    pack_buffer b;
    EXPECT_TRUE(b.bytes().empty());
    const std::vector<std::uint8_t> blob(100000, 0x5a);   // grows past its first room at once
    std::map<std::string, std::vector<int>> many;         // hundreds of small writes
    for (int i = 0; i < 300; ++i) many["key" + std::to_string(i)] = {i, -i, i * 1000};
    EXPECT_EQ(packed(b, blob), packed_by_msgpack(blob));
    EXPECT_EQ(packed(b, many), packed_by_msgpack(many));
    EXPECT_EQ(packed(b, std::string()), packed_by_msgpack(std::string()));   // an empty body
    EXPECT_EQ(packed(b, 7), (std::vector<std::uint8_t>{0x07}));
}

TEST(pack_buffer, clear_keeps_the_room_and_release_gives_it_back) {
    pack_buffer b;
    msgpack::pack(b, std::vector<std::uint8_t>(1000, 1));
    const auto room = b.capacity();
    EXPECT_GE(room, 1003u);
    b.clear();
    EXPECT_TRUE(b.bytes().empty());
    EXPECT_EQ(b.capacity(), room);
    b.release();
    EXPECT_EQ(b.capacity(), 0u);
    EXPECT_TRUE(b.bytes().empty());
    EXPECT_EQ(packed(b, true), (std::vector<std::uint8_t>{0xc3}));   // usable again
}

}  // namespace
}  // namespace zmesh::test
