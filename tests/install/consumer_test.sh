#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Installs this build into a temporary prefix, then builds and runs an out-of-tree consumer
# against it three ways: find_package(zmesh) shared, the same static, and pkg-config.
# Usage: consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d /tmp/zmesh-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
# Only public headers are installed: no reactor, no codec beyond node ids.
internal=$(find "$work/prefix/include" -name 'reactor*.hpp' -o -name 'beacon*.hpp')
if [ -n "$internal" ]; then
    echo "internal headers were installed" >&2
    exit 1
fi

cmake -S "$source/tests/install/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/build" -j2 > "$work/build.log"
# The shared one must find libzmesh.so in the prefix, not in this build tree.
# (ldd's output is read whole first: `grep -q` leaving early would SIGPIPE ldd under pipefail.)
linked=$(LD_LIBRARY_PATH="$work/prefix/lib" ldd "$work/build/consumer_shared")
if ! grep -q "$work/prefix/lib/libzmesh.so" <<< "$linked"; then
    echo "consumer_shared is not linked to the installed libzmesh.so:" >&2
    echo "$linked" >&2
    exit 1
fi
LD_LIBRARY_PATH="$work/prefix/lib" "$work/build/consumer_shared" "shared-$$"
"$work/build/consumer_static" "static-$$"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# shellcheck disable=SC2046  # word splitting of the flags is wanted
g++ -std=c++20 "$source/tests/install/consumer/main.cpp" -o "$work/consumer_pc" \
    $(pkg-config --cflags --libs zmesh)
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer_pc" "pkgconfig-$$"
