// SPDX-License-Identifier: MPL-2.0
// suggest: edit distance and the closest names.
#include "suggest.hpp"

#include <algorithm>
#include <cctype>
#include <numeric>

namespace zmesh::cli {

namespace {
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rows of the dynamic programme: a swap looks two rows back.
    std::vector<std::size_t> before(b.size() + 1), last(b.size() + 1), row(b.size() + 1);
    std::iota(last.begin(), last.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            row[j] = std::min({last[j] + 1, row[j - 1] + 1, last[j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                row[j] = std::min(row[j], before[j - 2] + 1);
        }
        std::swap(before, last);
        std::swap(last, row);
    }
    return last[b.size()];
}

std::vector<std::string> closest(std::string_view word, const std::vector<std::string>& candidates,
                                 std::size_t max) {
    std::vector<std::pair<std::size_t, std::string>> scored;
    for (const auto& c : candidates) {
        if (c == word) continue;
        if (std::any_of(scored.begin(), scored.end(), [&](const auto& s) { return s.second == c; })) continue;
        const auto d = edit_distance(word, c);
        const auto allowed = std::max<std::size_t>(1, std::max(word.size(), c.size()) / 3);
        if (d <= allowed) scored.emplace_back(d, c);
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::string> out;
    for (auto& s : scored) {
        if (out.size() == max) break;
        out.push_back(std::move(s.second));
    }
    return out;
}

std::string did_you_mean(const std::vector<std::string>& suggestions, std::string_view prefix) {
    if (suggestions.empty()) return {};
    std::string s = " (did you mean ";
    for (std::size_t i = 0; i < suggestions.size(); ++i) {
        if (i > 0) s += i + 1 == suggestions.size() ? " or " : ", ";
        s.append("'").append(prefix).append(suggestions[i]).append("'");
    }
    return s + "?)";
}

std::string list(const std::vector<std::string>& names, std::size_t max) {
    std::string s;
    for (std::size_t i = 0; i < names.size() && i < max; ++i) s += (i ? ", " : "") + names[i];
    if (names.size() > max) s += ", ... (" + std::to_string(names.size() - max) + " more)";
    return s;
}

}  // namespace zmesh::cli
