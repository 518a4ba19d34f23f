// SPDX-License-Identifier: MPL-2.0
#include <zmesh/tuning.hpp>

#include <cstddef>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace zmesh {

bool tune_malloc() noexcept {
#if defined(__GLIBC__) && defined(M_MXFAST)
    // glibc caps M_MXFAST at 80 * sizeof(size_t) / 4: 160 on 64-bit, 80 on 32-bit.
    return mallopt(M_MXFAST, static_cast<int>(80 * sizeof(std::size_t) / 4)) == 1;
#else
    return false;
#endif
}

}  // namespace zmesh
