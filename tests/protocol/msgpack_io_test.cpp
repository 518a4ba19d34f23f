// SPDX-License-Identifier: MPL-2.0
// msgpack_io tests: unpack_exact's limits and error mapping, and field_reader's typed reads
// with their sticky first error.
#include "protocol/msgpack_io.hpp"

#include "wire_builder.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace zmesh::protocol;
using namespace zmesh::test;

namespace {

// Returns: `depth` arrays, each holding the next, the innermost holding the integer 1.
bytes nested_arrays(std::size_t depth) {
    bytes b(depth, 0x91);   // fixarray of one element
    b.push_back(0x01);
    return b;
}

// Unpacks `body` (which must be valid) and hands the object to `check`.
template <class Check>
void with_object(const field& body, Check check) {
    const bytes b = pack(body);
    auto h = unpack_exact(b);
    ASSERT_TRUE(h) << to_string(h.error());
    check(h->get());
}

}  // namespace

TEST(unpack_exact, returns_the_single_object) {
    const bytes b = pack(array_field({uint_field(7), str_field("x")}));
    auto h = unpack_exact(b);
    ASSERT_TRUE(h);
    const auto& o = h->get();
    ASSERT_EQ(o.type, msgpack::type::ARRAY);
    ASSERT_EQ(o.via.array.size, 2u);
    EXPECT_EQ(o.via.array.ptr[0].via.u64, 7u);
}

TEST(unpack_exact, empty_input_is_truncated) {
    EXPECT_EQ(failure(unpack_exact({})), errc::truncated);
}

TEST(unpack_exact, every_prefix_is_truncated) {
    const bytes b = pack(array_field({str_field("hello"), bin_field(16), uint_field(70000)}));
    for (std::size_t n = 0; n < b.size(); ++n) {
        auto r = unpack_exact(std::span(b.data(), n));
        ASSERT_FALSE(r) << "prefix " << n;
        EXPECT_EQ(r.error(), errc::truncated) << "prefix " << n;
    }
}

TEST(unpack_exact, trailing_bytes_are_bad_msgpack) {
    bytes b = pack(uint_field(1));
    b.push_back(0x01);
    EXPECT_EQ(failure(unpack_exact(b)), errc::bad_msgpack);
}

TEST(unpack_exact, reserved_byte_is_bad_msgpack) {
    const bytes b{0xc1};   // never used in msgpack
    EXPECT_EQ(failure(unpack_exact(b)), errc::bad_msgpack);
}

TEST(unpack_exact, array_over_limit_is_oversized) {
    const bytes b = pack(array_field({uint_field(1), uint_field(2), uint_field(3)}));
    unpack_limits limits;
    limits.array = 3;
    EXPECT_TRUE(unpack_exact(b, limits));
    limits.array = 2;
    EXPECT_EQ(failure(unpack_exact(b, limits)), errc::oversized);
}

TEST(unpack_exact, huge_array_header_is_oversized_before_any_element) {
    // array32 claiming 4 billion elements: must not allocate for them.
    const bytes b{0xdd, 0xff, 0xff, 0xff, 0xff};
    EXPECT_EQ(failure(unpack_exact(b)), errc::oversized);
    const bytes just_over{0xdd, 0x00, 0x00, 0x10, 0x01};   // 4097, default limit 4096
    EXPECT_EQ(failure(unpack_exact(just_over)), errc::oversized);
}

TEST(unpack_exact, map_str_and_bin_over_limit_are_oversized) {
    unpack_limits limits;
    limits.map = 0;
    EXPECT_EQ(failure(unpack_exact(pack(map_field()), limits)), errc::oversized);
    limits = {};
    limits.str = 4;
    EXPECT_TRUE(unpack_exact(pack(str_field("abcd")), limits));
    EXPECT_EQ(failure(unpack_exact(pack(str_field("abcde")), limits)), errc::oversized);
    limits = {};
    limits.bin = 4;
    EXPECT_TRUE(unpack_exact(pack(bin_field(4)), limits));
    EXPECT_EQ(failure(unpack_exact(pack(bin_field(5)), limits)), errc::oversized);
}

TEST(unpack_exact, nesting_up_to_depth_limit_is_accepted) {
    EXPECT_TRUE(unpack_exact(nested_arrays(unpack_limits{}.depth)));
}

TEST(unpack_exact, deep_nesting_is_oversized) {
    const auto depth = unpack_limits{}.depth;
    EXPECT_EQ(failure(unpack_exact(nested_arrays(depth + 1))), errc::oversized);
    EXPECT_EQ(failure(unpack_exact(nested_arrays(10000))), errc::oversized);
}

TEST(unpack_exact, random_bytes_never_throw) {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<std::size_t> len(0, 64);
    for (int i = 0; i < 20000; ++i) {
        const bytes b = random_bytes(rng, len(rng));
        EXPECT_NO_THROW({ auto r = unpack_exact(b); (void)r; });
    }
}

TEST(field_reader, non_array_is_wrong_type) {
    with_object(map_field(), [](const msgpack::object& o) {
        field_reader r(o, 0);
        EXPECT_EQ(r.error(), errc::wrong_type);
        EXPECT_FALSE(r.has_more());
    });
}

TEST(field_reader, fewer_than_min_fields_is_wrong_type) {
    with_object(array_field({uint_field(1)}), [](const msgpack::object& o) {
        EXPECT_FALSE(field_reader(o, 1).error());
        EXPECT_EQ(field_reader(o, 2).error(), errc::wrong_type);
    });
}

TEST(field_reader, reads_typed_fields_in_order) {
    with_object(array_field({str_field("s"), uint_field(42), bool_field(true), bin_field(16, 7),
                             bin_field(3, 9), nil_field()}),
                [](const msgpack::object& o) {
                    field_reader r(o, 6);
                    EXPECT_EQ(r.str(10), "s");
                    EXPECT_EQ(r.uint(), 42u);
                    EXPECT_TRUE(r.boolean());
                    EXPECT_EQ(r.id().bytes()[15], 7);
                    EXPECT_EQ(r.bin(3).size(), 3u);
                    EXPECT_TRUE(r.has_more());
                    EXPECT_EQ(r.object().type, msgpack::type::NIL);
                    EXPECT_FALSE(r.has_more());
                    EXPECT_FALSE(r.error());
                });
}

TEST(field_reader, wrong_type_is_recorded_and_sticks) {
    with_object(array_field({uint_field(1), str_field("s"), uint_field(2)}),
                [](const msgpack::object& o) {
                    field_reader r(o, 3);
                    EXPECT_EQ(r.str(10), "");   // uint where a str is wanted
                    EXPECT_EQ(r.error(), errc::wrong_type);
                    // The next fields have the right types, but the reader stays failed.
                    EXPECT_EQ(r.uint(), 0u);
                    EXPECT_EQ(r.str(10), "");
                    EXPECT_FALSE(r.has_more());
                    EXPECT_EQ(r.error(), errc::wrong_type);
                });
}

TEST(field_reader, first_error_wins) {
    with_object(array_field({str_field("toolong"), uint_field(1)}), [](const msgpack::object& o) {
        field_reader r(o, 2);
        r.str(3);
        r.str(3);   // a uint: would be wrong_type
        r.fail(errc::bad_field);
        EXPECT_EQ(r.error(), errc::oversized);
    });
}

TEST(field_reader, fail_from_outside_sticks) {
    with_object(array_field({uint_field(1)}), [](const msgpack::object& o) {
        field_reader r(o, 1);
        r.fail(errc::bad_field);
        EXPECT_EQ(r.uint(), 0u);
        EXPECT_EQ(r.error(), errc::bad_field);
    });
}

TEST(field_reader, reading_past_the_end_is_wrong_type) {
    with_object(array_field({uint_field(1)}), [](const msgpack::object& o) {
        field_reader r(o, 1);
        EXPECT_EQ(r.uint(), 1u);
        EXPECT_EQ(r.uint(), 0u);
        EXPECT_EQ(r.error(), errc::wrong_type);
    });
    with_object(array_field({}), [](const msgpack::object& o) {
        field_reader r(o, 0);
        EXPECT_EQ(r.object().type, msgpack::type::NIL);
        EXPECT_EQ(r.error(), errc::wrong_type);
    });
}

TEST(field_reader, str_limits_length_and_emptiness) {
    with_object(array_field({str_field("abcd"), str_field("abcd")}), [](const msgpack::object& o) {
        field_reader r(o, 2);
        EXPECT_EQ(r.str(4), "abcd");
        EXPECT_EQ(r.str(3), "");
        EXPECT_EQ(r.error(), errc::oversized);
    });
    with_object(array_field({str_field(""), str_field("")}), [](const msgpack::object& o) {
        field_reader r(o, 2);
        EXPECT_EQ(r.str(4, true), "");
        EXPECT_FALSE(r.error());
        r.str(4, false);
        EXPECT_EQ(r.error(), errc::bad_field);
    });
}

TEST(field_reader, uint_over_max_is_bad_field) {
    with_object(array_field({uint_field(65535), uint_field(65536)}), [](const msgpack::object& o) {
        field_reader r(o, 2);
        EXPECT_EQ(r.uint(65535), 65535u);
        EXPECT_EQ(r.uint(65535), 0u);
        EXPECT_EQ(r.error(), errc::bad_field);
    });
}

TEST(field_reader, negative_or_float_is_not_a_uint) {
    with_object(array_field({int_field(-1)}), [](const msgpack::object& o) {
        field_reader r(o, 1);
        r.uint();
        EXPECT_EQ(r.error(), errc::wrong_type);
    });
    with_object(array_field({float_field(1.5)}), [](const msgpack::object& o) {
        field_reader r(o, 1);
        r.uint();
        EXPECT_EQ(r.error(), errc::wrong_type);
    });
}

TEST(field_reader, boolean_rejects_integers) {
    with_object(array_field({uint_field(1)}), [](const msgpack::object& o) {
        field_reader r(o, 1);
        EXPECT_FALSE(r.boolean());
        EXPECT_EQ(r.error(), errc::wrong_type);
    });
}

TEST(field_reader, id_checks_size_and_emptiness) {
    const auto id_error = [](const field& f) -> std::optional<errc> {
        const bytes b = pack(array_field({f}));
        auto h = unpack_exact(b);
        if (!h) {
            ADD_FAILURE() << "baseline did not unpack";
            return errc::bad_msgpack;
        }
        field_reader r(h->get(), 1);
        r.id();
        return r.error();
    };
    EXPECT_EQ(id_error(bin_field(16, 1)), std::nullopt);
    EXPECT_EQ(id_error(bin_field(15, 1)), errc::bad_field);
    EXPECT_EQ(id_error(bin_field(0, 1)), errc::bad_field);
    EXPECT_EQ(id_error(bin_field(17, 1)), errc::oversized);
    EXPECT_EQ(id_error(bin_field(16, 0)), errc::bad_field);   // all zero means "no id"
    EXPECT_EQ(id_error(str_field(std::string(16, 'a'))), errc::wrong_type);
}

TEST(field_reader, bin_over_max_is_oversized) {
    with_object(array_field({bin_field(8)}), [](const msgpack::object& o) {
        field_reader r(o, 1);
        EXPECT_TRUE(r.bin(7).empty());
        EXPECT_EQ(r.error(), errc::oversized);
    });
}

namespace zmesh::protocol {
namespace {

TEST(big_endian, every_width_reads_and_writes_msgpacks_byte_order) {
    const std::uint64_t samples[] = {0, 1, 0x7f, 0x80, 0xff, 0x1234, 0xfedc, 0x12345678, 0xfedcba98,
                                     0x0123456789abcdefull, ~0ull};
    for (std::size_t width = 1; width <= 8; ++width) {
        for (const auto sample : samples) {
            const auto v = width == 8 ? sample : sample & ((1ull << (8 * width)) - 1);
            std::uint8_t written[10] = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee};
            write_big_endian(written + 1, v, width);
            for (std::size_t i = 0; i < width; ++i)   // most significant byte first
                EXPECT_EQ(written[1 + i], static_cast<std::uint8_t>(v >> (8 * (width - 1 - i))))
                    << "width " << width << " value " << v;
            EXPECT_EQ(written[0], 0xee);   // nothing around it touched
            EXPECT_EQ(written[1 + width], 0xee);
            EXPECT_EQ(read_big_endian(written + 1, width), v) << "width " << width;
        }
    }
}

}  // namespace
}  // namespace zmesh::protocol
