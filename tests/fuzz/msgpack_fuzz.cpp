// SPDX-License-Identifier: MPL-2.0
// msgpack checks payloads are put through: check_msgpack (exactly one object) and
// skip_msgpack (the size of the first objects) agree with each other and with msgpack-cxx's
// own parser, and none throws.
#include "../protocol/msgpack_reference.hpp"
#include "fuzz_check.hpp"
#include "protocol/msgpack_io.hpp"

using namespace zmesh::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    const bool one_object = !check_msgpack(bytes);
    const auto skipped = skip_msgpack(bytes, 1);
    if (one_object) FUZZ_CHECK(skipped && *skipped == size);
    for (const std::size_t depth : {std::size_t{2}, max_skip_depth}) {
        const auto ours = skip_msgpack(bytes, 2, depth);
        const auto theirs = zmesh::test::reference_skip(bytes, 2, depth);
        FUZZ_CHECK(ours.ok() == theirs.ok());
        FUZZ_CHECK(ours ? *ours == *theirs : ours.error() == theirs.error());
    }
    if (skipped && *skipped == size) (void)unpack_exact(bytes);
    return 0;
}
