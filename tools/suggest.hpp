// SPDX-License-Identifier: MPL-2.0
// suggest: "did you mean ...?" for a name the mesh does not know (a method, a member, a mesh).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zmesh::cli {

// Returns: the optimal string alignment distance between `a` and `b`, ignoring ASCII case:
// the insertions, deletions, substitutions and swaps of two neighbours that turn one into the
// other ("tmie" -> "time" is one swap).
std::size_t edit_distance(std::string_view a, std::string_view b);

// Returns: the candidates close enough to `word` to be a typo of it (at most a third of the
// longer name's letters differ, at least one may), closest first, ties in the candidates'
// order, at most `max` of them; never `word` itself.
std::vector<std::string> closest(std::string_view word, const std::vector<std::string>& candidates,
                                 std::size_t max = 3);

// Returns: " (did you mean 'a' or 'b'?)" for `suggestions`, or "" when there are none;
// each quoted as `prefix` + name + "'" ("--mesh " gives "did you mean '--mesh shop'?").
std::string did_you_mean(const std::vector<std::string>& suggestions, std::string_view prefix = "");

// Returns: `names` joined with ", ", cut after `max` with ", ... (N more)".
std::string list(const std::vector<std::string>& names, std::size_t max = 12);

}  // namespace zmesh::cli
