// SPDX-License-Identifier: MPL-2.0
// result<T>: a value or an errc, for decoders that must never throw (C++20 has no std::expected).
#pragma once

#include "errc.hpp"

#include <cassert>
#include <utility>
#include <variant>

namespace zmesh::protocol {

template <class T>
class [[nodiscard]] result {
public:
    result(T value) : v_(std::move(value)) {}   // NOLINT: implicit by design, like expected
    result(errc error) : v_(error) {}           // NOLINT

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    // Precondition: ok(). Reading the value of an error is a programmer error.
    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    // Precondition: !ok().
    errc error() const noexcept { assert(!ok()); return std::get<1>(v_); }

private:
    std::variant<T, errc> v_;
};

}  // namespace zmesh::protocol
