// SPDX-License-Identifier: MPL-2.0
// payload: as<T>() of the wrong type says which type was asked for and what the object was.
#include <zmesh/payload.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace zmesh {
namespace {

struct order {
    int id = 0;
    std::string item;
    MSGPACK_DEFINE(id, item)
};

template <class T>
payload packed(const T& value) {
    auto bytes = std::make_shared<std::vector<std::uint8_t>>();
    msgpack::sbuffer b;
    msgpack::pack(b, value);
    bytes->assign(b.data(), b.data() + b.size());
    return payload(std::span<const std::uint8_t>(*bytes), bytes);
}

// Returns: the message of the decode_error that as<T>() throws on `p`.
template <class T>
std::string decode_failure(const payload& p) {
    try {
        p.as<T>();
    } catch (const decode_error& e) {
        return e.what();
    }
    return "(decoded)";
}

TEST(payload, a_decode_error_names_the_type_asked_for_and_what_the_object_is) {
    EXPECT_EQ(decode_failure<int>(packed(std::string("12"))), "payload is not of type int: it is the string \"12\"");
    // Compilers spell std::string and anonymous namespaces each their own way.
    const auto text = decode_failure<std::string>(packed(-5));
    EXPECT_TRUE(text.starts_with("payload is not of type std::") && text.find("basic_string<char") != std::string::npos &&
                text.ends_with(": it is the integer -5")) << text;
    EXPECT_EQ(decode_failure<std::uint8_t>(packed(300)), "payload is not of type unsigned char: it is the integer 300");
    EXPECT_EQ(decode_failure<int>(packed(msgpack::type::nil_t())), "payload is not of type int: it is nil");
    EXPECT_EQ(decode_failure<int>(packed(true)), "payload is not of type int: it is the boolean true");
    EXPECT_EQ(decode_failure<bool>(packed(std::vector<int>{1, 2, 3})), "payload is not of type bool: it is an array of 3");
    EXPECT_EQ(decode_failure<int>(packed(std::map<int, int>{{1, 2}})), "payload is not of type int: it is a map of 1");
    EXPECT_TRUE(decode_failure<order>(packed(1.5)).ends_with("::order: it is the float 1.500000"))
        << decode_failure<order>(packed(1.5));
}

TEST(payload, a_long_string_is_shown_cut) {
    const auto message = decode_failure<int>(packed(std::string(100, 'x')));
    EXPECT_NE(message.find("\"" + std::string(40, 'x') + "...\""), std::string::npos) << message;
    EXPECT_LT(message.size(), 100u);
}

TEST(payload, try_as_is_empty_where_as_throws) {
    EXPECT_FALSE(packed(std::string("12")).try_as<int>());
    EXPECT_EQ(packed(order{7, "tea"}).as<order>().item, "tea");
}

}  // namespace
}  // namespace zmesh
