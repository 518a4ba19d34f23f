// SPDX-License-Identifier: MPL-2.0
// fuzz_check: what every fuzz target asserts besides "no crash, no sanitizer report": a
// property that must hold for the input. A violated property aborts, so libFuzzer keeps the
// input as a crash like any other.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)
