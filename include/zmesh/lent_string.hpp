// SPDX-License-Identifier: MPL-2.0
// lent_string: a name in a request or reply that the node may lend instead of copying.
#pragma once

#include <string>
#include <utility>

namespace zmesh {

// A string that is either its own or lent: request::method(), request::caller_name() and
// reply::from_name() read the node's own strings while a handler or callback runs, as a
// payload reads the frame being read, so that a call copies no name. A copy always owns its
// string, so whatever application code keeps stays valid; a move keeps what it had, lent or
// owned. An application building a request or reply passes std::strings (they convert).
class lent_string {
public:
    lent_string() = default;
    lent_string(std::string own) : own_(std::move(own)) {}   // NOLINT: implicit
    lent_string(const char* own) : own_(own) {}              // NOLINT: implicit
    // Returns: one that reads `s`, which must outlive it and whatever it is moved into.
    static lent_string lend(const std::string& s) {
        lent_string l;
        l.lent_ = &s;
        return l;
    }
    static lent_string lend(const std::string&&) = delete;   // a temporary would dangle
    lent_string(const lent_string& other) : own_(other.get()) {}
    lent_string& operator=(const lent_string& other) {
        if (this != &other) {
            own_ = other.get();
            lent_ = nullptr;
        }
        return *this;
    }
    // A lent one moves as its pointer alone: a std::string's move is a call and a copy of
    // its inline buffer, three of them per call the node runs a callback for.
    lent_string(lent_string&& other) noexcept : lent_(other.lent_) {
        if (!lent_) own_ = std::move(other.own_);
    }
    lent_string& operator=(lent_string&& other) noexcept {
        lent_ = other.lent_;
        if (!lent_) own_ = std::move(other.own_);
        return *this;
    }
    ~lent_string() = default;
    const std::string& get() const noexcept { return lent_ ? *lent_ : own_; }

private:
    std::string own_;
    const std::string* lent_ = nullptr;
};

}  // namespace zmesh
