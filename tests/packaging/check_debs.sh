#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Builds the Debian packages of this build tree (cpack -G DEB) and checks them the way a user
# of Debian 12 would meet them, without a container or the network:
#   1. three packages, each holding exactly its part, every path under /usr;
#   2. their dependencies: every shared library a packaged binary loads is provided by a
#      package its Depends names, every name in Depends is a package this system knows, and
#      apt resolves `apt install ./*.deb` (simulated);
#   3. dpkg unpacks all three into an empty root (its own database: no file in two
#      packages), or, without root or fakeroot, dpkg-deb -x does;
#   4. an out-of-tree program builds against that root with find_package(zmesh), shared and
#      static, and with pkg-config, and runs against the root's libzmesh.so.0; the tools run;
#   5. the library lands in a directory the dynamic loader searches by default, so installed
#      for real it needs no LD_LIBRARY_PATH.
# Not proved here: installing on a fresh Debian 12 (the dependencies are met by this machine's
# packages, and the maintainer scripts, an ldconfig call, do not run in the empty root);
# fresh_debian_install.sh proves it, with root and the network (docs/packaging.md).
# Usage: check_debs.sh BUILD_DIR SOURCE_DIR. Exit 77 (skipped) without dpkg's tools.
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)

for tool in dpkg dpkg-deb dpkg-shlibdeps cpack readelf pkg-config; do
    if ! command -v "$tool" > /dev/null; then
        echo "skipped: $tool not found (dpkg-dev provides dpkg-shlibdeps)"
        exit 77
    fi
done

work=$(mktemp -d /tmp/zmesh-debs-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Any other command that stops this script (set -e) says where, rather than ending it silently.
trap 'echo "FAIL: line $LINENO exited with status $?" >&2' ERR

# --- 1. build them --------------------------------------------------------------------------
# cpack installs each component of this tree into a staging directory first (it builds
# `all` on the way: a no-op in a built tree).
(cd "$build" && cpack -G DEB -B "$work/debs" > "$work/cpack.log" 2>&1) ||
    { tail -30 "$work/cpack.log" >&2; fail "cpack failed (log above)"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"
lib_pkg=libzmesh${version%%.*}
declare -A deb
for pkg in "$lib_pkg" libzmesh-dev zmesh-tools; do
    files=("$work/debs/${pkg}_"*.deb)
    if [ ! -f "${files[0]}" ] || [ ${#files[@]} -ne 1 ]; then
        fail "expected one ${pkg}_*.deb in $work/debs"
    fi
    deb[$pkg]=${files[0]}
    [ "$(dpkg-deb -f "${deb[$pkg]}" Package)" = "$pkg" ] || fail "${deb[$pkg]} is not package $pkg"
done
[ "$(find "$work/debs" -maxdepth 1 -name '*.deb' | wc -l)" -eq 3 ] || fail "cpack wrote other packages too"

# Each package's files (regular files and links), without the leading "./".
contents() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./||' | sort; }
for pkg in "${!deb[@]}"; do
    contents "${deb[$pkg]}" > "$work/$pkg.files"
    outside=$(grep -v '^usr/' "$work/$pkg.files" || true)
    [ -z "$outside" ] || fail "$pkg installs outside /usr: $outside"
    grep -qx "usr/share/doc/$pkg/copyright" "$work/$pkg.files" || fail "$pkg has no copyright file"
done
# The runtime package: the soname's link and the file it names, nothing to build with.
libdir=$(grep -m1 -o '^usr/lib\(/[^/]*\)\?/libzmesh\.so\.[0-9]*$' "$work/$lib_pkg.files" | xargs dirname) ||
    fail "$lib_pkg has no libzmesh.so.N"
others=$(grep -v -e "^$libdir/libzmesh\.so\.[0-9.]*$" -e "^usr/share/doc/" "$work/$lib_pkg.files" || true)
[ -z "$others" ] || fail "$lib_pkg holds more than the shared library: $others"
# The -dev package: exactly the public headers, the linker's name, the archive, the CMake
# package and zmesh.pc.
public=$(cd "$source/include" && find zmesh -type f | sed 's|^|usr/include/|' | sort)
headers=$(grep '^usr/include/' "$work/libzmesh-dev.files" || true)
[ "$headers" = "$public" ] || fail "libzmesh-dev's headers are not exactly include/zmesh"
for f in "$libdir/libzmesh.so" "$libdir/libzmesh.a" "$libdir/pkgconfig/zmesh.pc" \
         "$libdir/cmake/zmesh/zmeshConfig.cmake" "$libdir/cmake/zmesh/zmeshTargets.cmake"; do
    grep -qx "$f" "$work/libzmesh-dev.files" || fail "libzmesh-dev lacks /$f"
done
# The tools package: the four programs.
for p in zmesh zmesh-node zmesh-monitor zmesh-bench; do
    grep -qx "usr/bin/$p" "$work/zmesh-tools.files" || fail "zmesh-tools lacks /usr/bin/$p"
done
echo "ok: $lib_pkg, libzmesh-dev, zmesh-tools $version: contents (library in /$libdir)"

# --- 2. dependencies -----------------------------------------------------------------------
# The package names in a Depends field, without versions or alternatives' bars.
depends_of() { dpkg-deb -f "$1" Depends | tr ',|' '\n' | sed 's/(.*//; s/ //g' | grep -v '^$' || true; }
for pkg in "${!deb[@]}"; do
    depends_of "${deb[$pkg]}" | sort -u > "$work/$pkg.depends"
    while read -r dep; do
        [ "$dep" = "$lib_pkg" ] && continue
        apt-cache show "$dep" > /dev/null 2>&1 || dpkg-query -W "$dep" > /dev/null 2>&1 ||
            fail "$pkg depends on '$dep', a package this system does not know"
    done < "$work/$pkg.depends"
done
# Every shared library a packaged ELF file loads comes from a package its Depends names.
# The loader's cache is read once into a file: a reader that stops early on a pipe would kill
# ldconfig with SIGPIPE, and under pipefail end this script once the cache outgrows the pipe.
ldconfig -p > "$work/ldcache"
for pkg in "${!deb[@]}"; do
    dpkg-deb -x "${deb[$pkg]}" "$work/x-$pkg"
    while IFS= read -r -d '' f; do
        file_type=$(readelf -h "$f" 2> /dev/null | awk '/Type:/ { print $2 }') || continue
        [ "$file_type" = DYN ] || [ "$file_type" = EXEC ] || continue
        for soname in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            [[ $soname == libzmesh.so.* ]] && { grep -qx "$lib_pkg" "$work/$pkg.depends" || 
                fail "$pkg needs $soname but does not depend on $lib_pkg"; continue; }
            path=$(awk -v s="$soname" '$1 == s && !found { print $NF; found = 1 }' "$work/ldcache")
            [ -n "$path" ] || fail "${f#"$work/x-$pkg"} needs $soname, which this system lacks"
            owner=$(dpkg -S "$(readlink -f "$path")" 2> /dev/null || dpkg -S "$path" 2> /dev/null) ||
                fail "no package owns $path"
            owner=${owner%%:*}
            grep -qx "$owner" "$work/$pkg.depends" ||
                fail "$pkg: ${f#"$work/x-$pkg"} needs $soname (package $owner), not in Depends: $(paste -sd, "$work/$pkg.depends")"
        done
    done < <(find "$work/x-$pkg" -type f -print0)
done
grep -qx "$lib_pkg" "$work/libzmesh-dev.depends" || fail "libzmesh-dev does not depend on $lib_pkg"
grep -qx libmsgpack-cxx-dev "$work/libzmesh-dev.depends" || fail "libzmesh-dev does not depend on libmsgpack-cxx-dev"
dpkg-deb -e "${deb[$lib_pkg]}" "$work/control-$lib_pkg"
grep -qs "^libzmesh ${version%%.*} $lib_pkg" "$work/control-$lib_pkg/shlibs" ||
    fail "$lib_pkg has no shlibs entry for libzmesh"
grep -qs ldconfig "$work/control-$lib_pkg/postinst" ||
    fail "$lib_pkg's postinst does not run ldconfig"
# apt's own resolver, against what this system has installed and its package lists: no
# dependency left unmet, nothing to remove. Changes nothing.
if ! apt-get install --simulate --no-install-recommends -o Debug::NoLocking=1 \
        "${deb[$lib_pkg]}" "${deb[libzmesh-dev]}" "${deb[zmesh-tools]}" > "$work/apt.log" 2>&1; then
    tail -20 "$work/apt.log" >&2
    fail "apt cannot install the three packages (simulated)"
fi
grep -q '^Remv ' "$work/apt.log" && fail "installing them would remove packages: $(grep '^Remv ' "$work/apt.log")"
for pkg in "${!deb[@]}"; do
    echo "ok: $pkg Depends: $(dpkg-deb -f "${deb[$pkg]}" Depends)"
done

# --- 3. unpack into an empty root ----------------------------------------------------------
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg_in_root=()
if [ "$(id -u)" -eq 0 ]; then
    dpkg_in_root=(dpkg)
elif command -v fakeroot > /dev/null; then
    dpkg_in_root=(fakeroot dpkg)
fi
if [ ${#dpkg_in_root[@]} -gt 0 ]; then
    # --unpack: files and the database, no maintainer script (there is no shell in the root
    # to run ldconfig with); --force-depends: the dependencies live on this system, not there.
    "${dpkg_in_root[@]}" --root="$root" --force-depends --unpack \
        "${deb[$lib_pkg]}" "${deb[libzmesh-dev]}" "${deb[zmesh-tools]}" > "$work/dpkg.log" 2>&1 ||
        { cat "$work/dpkg.log" >&2; fail "dpkg --unpack into an empty root failed"; }
    unpacked=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Package} ${Status}\n' | grep -c ' unpacked$' || true)
    [ "$unpacked" -eq 3 ] || fail "dpkg recorded $unpacked of 3 packages as unpacked"
    echo "ok: dpkg --unpack into an empty root (${dpkg_in_root[*]})"
else
    for pkg in "${!deb[@]}"; do dpkg-deb -x "${deb[$pkg]}" "$root"; done
    dupes=$(cat "$work"/*.files | grep -v '^usr/share/doc/$' | sort | uniq -d)
    [ -z "$dupes" ] || fail "files in two packages: $dupes"
    echo "ok: dpkg-deb -x into an empty root (neither root nor fakeroot for dpkg --unpack)"
fi

# --- 4. a program built against the root ---------------------------------------------------
rlib=$root/$libdir
# Only find_package(zmesh): the packages its headers do not need are made unfindable.
cmake -S "$source/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$root/usr" \
      -DCMAKE_DISABLE_FIND_PACKAGE_cppzmq=ON -DCMAKE_DISABLE_FIND_PACKAGE_ZeroMQ=ON \
      -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_msgpack=ON \
      -DCMAKE_DISABLE_FIND_PACKAGE_msgpack-cxx=ON -DCMAKE_BUILD_TYPE=Release > "$work/consumer-configure.log" 2>&1 ||
    { tail -20 "$work/consumer-configure.log" >&2; fail "find_package(zmesh) against the root failed"; }
cmake --build "$work/consumer" -j2 > "$work/consumer-build.log" 2>&1 ||
    { tail -30 "$work/consumer-build.log" >&2; fail "the consumer did not build against the root"; }
export PKG_CONFIG_PATH=$rlib/pkgconfig
[ "$(pkg-config --variable=prefix zmesh)" -ef "$root/usr" ] || fail "zmesh.pc does not point into the root"
# shellcheck disable=SC2046  # word splitting of the flags is wanted
g++ -std=c++20 "$source/tests/install/consumer/main.cpp" -o "$work/consumer_pc" $(pkg-config --cflags --libs zmesh) ||
    fail "the consumer did not build with pkg-config against the root"
# Each program loads the root's library: LD_LIBRARY_PATH stands in for installing to /usr.
for program in "$work/consumer/consumer_shared" "$work/consumer_pc"; do
    linked=$(LD_LIBRARY_PATH=$rlib ldd "$program")
    grep -q "libzmesh.so.0 => $rlib/libzmesh.so.0" <<< "$linked" ||
        fail "$(basename "$program") does not load the root's libzmesh.so.0: $linked"
    LD_LIBRARY_PATH=$rlib "$program" "debs-$(basename "$program")-$$" > /dev/null ||
        fail "$(basename "$program") failed against the root"
done
"$work/consumer/consumer_static" "debs-static-$$" > /dev/null || fail "consumer_static failed"
echo "ok: a consumer built against the root (find_package shared and static, pkg-config) runs"
for p in zmesh zmesh-node zmesh-monitor zmesh-bench; do
    out=$(env -u LD_LIBRARY_PATH "$root/usr/bin/$p" --version 2>&1) || fail "$p --version: $out"
    grep -q "$version" <<< "$out" || fail "$p --version says '$out', not $version"
done
echo "ok: the packaged tools run (--version)"

# --- 5. no LD_LIBRARY_PATH once installed --------------------------------------------------
# The loader searches its default directories and those in /etc/ld.so.conf (ldconfig, which
# the postinst runs, caches them); glibc's ld.so --help lists both.
loader=$(readelf -l "$work/consumer_pc" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
searched=$("$loader" --help 2> /dev/null | sed -n 's/^  \(\/[^ ]*\) (.*/\1/p' || true)
searched+=$'\n'$(cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2> /dev/null | grep '^/' || true)
grep -qx "/$libdir" <<< "$searched" ||
    fail "/$libdir is not a directory the loader searches: $(echo "$searched" | paste -sd' ')"
echo "ok: /$libdir is searched by the dynamic loader ($loader)"
# Nor PKG_CONFIG_PATH: zmesh.pc lands where pkg-config looks by default.
pc_path=$(env -u PKG_CONFIG_PATH pkg-config --variable pc_path pkg-config | tr ':' '\n')
grep -qx "/$libdir/pkgconfig" <<< "$pc_path" ||
    fail "/$libdir/pkgconfig is not on pkg-config's default path: $(echo "$pc_path" | paste -sd:)"
echo "ok: /$libdir/pkgconfig is on pkg-config's default path"
