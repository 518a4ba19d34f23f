// SPDX-License-Identifier: MPL-2.0
// payload: a msgpack object received from the network (an event's payload, a call's
// arguments or result), shared rather than copied, decoded on demand.
#pragma once

#include <msgpack.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace zmesh {

// The bytes are valid msgpack (the node checked) but not of the type asked for.
struct decode_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class response;

class payload {
public:
    payload() = default;
    // `storage` keeps `bytes` alive and is shared by copies. Without it the bytes are only
    // borrowed (the node lends a handler the frame it is reading): a copy then takes a copy
    // of the bytes of its own, so whatever a handler keeps stays valid.
    payload(std::span<const std::uint8_t> bytes, std::shared_ptr<const void> storage)
        : bytes_(bytes), storage_(std::move(storage)) {}
    payload(const payload& other) : bytes_(other.bytes_), storage_(other.storage_) { own_if_borrowed(); }
    payload& operator=(const payload& other) {
        if (this != &other) {
            bytes_ = other.bytes_;
            storage_ = other.storage_;
            own_if_borrowed();
        }
        return *this;
    }
    payload(payload&&) noexcept = default;
    payload& operator=(payload&&) noexcept = default;
    ~payload() = default;

    // The raw bytes: exactly one msgpack object (empty for a default-constructed payload).
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

    // Returns: the msgpack object; it lives as long as the handle. Throws decode_error.
    msgpack::object_handle object() const {
        try {
            return msgpack::unpack(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
        } catch (const std::exception& e) {
            throw decode_error(std::string("payload: ") + e.what());
        }
    }

    // Returns: the object converted to T. Throws decode_error when it is not a T, saying
    // what it is instead ("payload is not of type int: it is the string \"12\"").
    template <class T>
    T as() const {
        const auto handle = object();
        try {
            return handle.get().as<T>();
        } catch (const std::exception&) {
            throw decode_error("payload is not of type " + std::string(type_name<T>()) + ": it is " +
                               describe(handle.get()));
        }
    }

    // Returns: the object converted to T, or nullopt when it is not a T. Never throws.
    template <class T>
    std::optional<T> try_as() const noexcept {
        try {
            return as<T>();
        } catch (...) {
            return std::nullopt;
        }
    }

private:
    friend class response;   // passes a payload on unchanged when it may (see rpc.hpp)

    // Returns: T's name as the compiler spells it (no RTTI, nothing at run time).
    template <class T>
    static constexpr std::string_view type_name() noexcept {
        // GCC: "... type_name() [with T = int; ...]"; Clang: "... type_name() [T = int]".
        constexpr std::string_view f = __PRETTY_FUNCTION__;
        constexpr auto begin = f.find("T = ");
        if constexpr (begin == std::string_view::npos) {
            return "the type asked for";
        } else {
            constexpr auto semicolon = f.find(';', begin);
            constexpr auto end = semicolon != std::string_view::npos ? semicolon : f.rfind(']');
            return f.substr(begin + 4, end - begin - 4);
        }
    }
    // Returns: what `o` is, for a decode_error: its kind, and its value or size.
    static std::string describe(const msgpack::object& o) {
        const auto quoted = [](const char* p, std::uint32_t n) {
            constexpr std::uint32_t shown = 40;   // enough to recognise, short enough for a log line
            return "\"" + std::string(p, std::min(n, shown)) + (n > shown ? "...\"" : "\"");
        };
        switch (o.type) {
            case msgpack::type::NIL: return "nil";
            case msgpack::type::BOOLEAN: return o.via.boolean ? "the boolean true" : "the boolean false";
            case msgpack::type::POSITIVE_INTEGER: return "the integer " + std::to_string(o.via.u64);
            case msgpack::type::NEGATIVE_INTEGER: return "the integer " + std::to_string(o.via.i64);
            case msgpack::type::FLOAT32:
            case msgpack::type::FLOAT64: return "the float " + std::to_string(o.via.f64);
            case msgpack::type::STR: return "the string " + quoted(o.via.str.ptr, o.via.str.size);
            case msgpack::type::BIN: return "binary of " + std::to_string(o.via.bin.size) + " bytes";
            case msgpack::type::ARRAY: return "an array of " + std::to_string(o.via.array.size);
            case msgpack::type::MAP: return "a map of " + std::to_string(o.via.map.size);
            case msgpack::type::EXT:
                return "an ext of type " + std::to_string(o.via.ext.type()) + ", " + std::to_string(o.via.ext.size) +
                       " bytes";
        }
        return "unknown";
    }

    void own_if_borrowed() {
        if (storage_ || bytes_.empty()) return;
        auto copy = std::make_shared<const std::vector<std::uint8_t>>(bytes_.begin(), bytes_.end());
        bytes_ = std::span<const std::uint8_t>(*copy);
        storage_ = std::move(copy);
    }

    std::span<const std::uint8_t> bytes_;
    std::shared_ptr<const void> storage_;   // keeps bytes_ alive; null: borrowed
};

}  // namespace zmesh
