#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Installs this build into a temporary prefix, checks that its headers are exactly
# include/zmesh and each compiles alone, then builds and runs an out-of-tree consumer against
# it three ways: find_package(zmesh) shared, the same static, and pkg-config.
# Usage: consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d /tmp/zmesh-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"

# The installed headers are exactly the files of include/zmesh: the public API, nothing
# internal and nothing left out.
public=$(cd "$source/include" && find zmesh -type f | sort)
installed=$(cd "$work/prefix/include" && find . -type f | sed 's|^\./||' | sort)
if [ "$installed" != "$public" ]; then
    echo "the installed headers are not exactly include/zmesh (< source, > installed):" >&2
    diff <(echo "$public") <(echo "$installed") >&2 || true
    exit 1
fi
# Each includes only <zmesh/...>, the standard library and msgpack-cxx, and compiles on its
# own with just the installed prefix.
# shellcheck disable=SC2086  # one file name per word
foreign=$(cd "$work/prefix/include" && grep -H '^ *# *include' $public |
          grep -v -e '<zmesh/[a-z_]*\.hpp>' -e '<msgpack\.hpp>' -e '<[a-z_]*>' || true)
if [ -n "$foreign" ]; then
    echo "public headers include what consumers may not have:" >&2
    echo "$foreign" >&2
    exit 1
fi
for h in $public; do
    if ! echo "#include <$h>" | g++ -std=c++20 -fsyntax-only -DMSGPACK_NO_BOOST \
            -I"$work/prefix/include" -x c++ - 2> "$work/header.log"; then
        echo "$h does not compile on its own:" >&2
        head -20 "$work/header.log" >&2
        exit 1
    fi
done

# Only find_package(zmesh): the packages its headers do not need are made unfindable, so
# zmeshConfig.cmake cannot depend on them.
cmake -S "$source/tests/install/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_DISABLE_FIND_PACKAGE_cppzmq=ON -DCMAKE_DISABLE_FIND_PACKAGE_ZeroMQ=ON \
      -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_msgpack=ON \
      -DCMAKE_DISABLE_FIND_PACKAGE_msgpack-cxx=ON \
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
