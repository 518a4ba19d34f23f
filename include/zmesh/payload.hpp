// SPDX-License-Identifier: MPL-2.0
// payload: a msgpack object received from the network (an event's payload, a call's
// arguments or result), shared rather than copied, decoded on demand.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
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

    // Returns: the object converted to T. Throws decode_error when it is not a T.
    template <class T>
    T as() const {
        const auto handle = object();
        try {
            return handle.get().as<T>();
        } catch (const std::exception& e) {
            throw decode_error(std::string("payload is not the type asked for: ") + e.what());
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
