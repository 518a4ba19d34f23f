#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Installs the Debian packages of this build tree on a *fresh* Debian 12 and uses them there,
# which check_debs.sh cannot prove (it checks them against this machine, whose libraries
# already meet their dependencies, and unpacks them into a root with no system in it):
#   1. cpack -G DEB into a temporary directory (the three packages);
#   2. a minimal Debian 12 chroot: debootstrap --variant=minbase bookworm, from the mirror
#      this machine's apt uses;
#   3. in it, `apt-get install ./libzmesh0_*.deb ./libzmesh-dev_*.deb ./zmesh-tools_*.deb`
#      with dependencies from the mirror (Depends only, no Recommends), so dpkg runs the
#      maintainer scripts (ldconfig) and nothing of this machine is there to lean on; then:
#      the tools' --version; a node serving echo and `zmesh call echo '[1]'` answered by it;
#      a compiler, CMake and pkg-config installed (a compiler is the user's: the -dev package
#      does not pull one in); the program of tests/install/consumer built with
#      find_package(zmesh), shared and static, and with pkg-config, and all of them run with
#      no LD_LIBRARY_PATH, PKG_CONFIG_PATH or CMAKE_PREFIX_PATH;
#   4. the chroot removed (also on failure), and the time each step took.
# Needs root (debootstrap, chroot, mount) and the network (the mirror): without either it
# says so and exits 77 (skipped). Installs debootstrap on this machine if it is missing.
# Takes minutes, most of it apt and debootstrap; not part of ctest. See docs/packaging.md.
#
# Usage: fresh_debian_install.sh BUILD_DIR SOURCE_DIR     e.g. sudo tests/packaging/fresh_debian_install.sh build .
# Environment:
#   ZMESH_FRESH_CACHE   directory for a tarball of the freshly debootstrapped chroot, reused
#                       for 7 days (default /tmp/zmesh-fresh-debian-cache; empty: no cache)
#   ZMESH_DEBIAN_MIRROR the mirror to use instead of the one of this machine's apt
# shellcheck disable=SC2016  # '${Package}' and the like are dpkg-query's or the chroot's shell's
set -Eeuo pipefail

usage="usage: $0 BUILD_DIR SOURCE_DIR   (as root, with the network; e.g. sudo $0 build .)"
# This script's own stdout and stderr, kept as 3 and 4: a trap runs inside the redirections of
# the command it interrupts (a step's `> log 2>&1`), and its messages must not go to that log.
exec 3>&1 4>&2
fail() { echo "FAIL: $*" >&4; exit 1; }
[ $# -eq 2 ] || { echo "$usage" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: needs root (debootstrap, chroot and mount): $usage"
    exit 77
fi
[ -f "$1/CPackConfig.cmake" ] || fail "$1 is not a configured build tree (no CPackConfig.cmake). $usage"
[ -f "$2/tests/install/consumer/CMakeLists.txt" ] || fail "$2 is not zmesh's source tree. $usage"
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
suite=bookworm
started=$(date +%s)

# --- timings --------------------------------------------------------------------------------
timings=()
step_name=''
step_started=0
step() {   # step NAME: ends the step before (its time is recorded) and announces the next
    local now
    now=$(date +%s)
    [ -z "$step_name" ] || timings+=("$(printf '%5ds  %s' $((now - step_started)) "$step_name")")
    step_name=$1
    step_started=$now
    [ -z "$1" ] || echo "== $1"
}

# --- cleanup: the node, the mounts, the chroot; also on failure or interruption --------------
work=''
root=''
node_pid=''
mounted=()   # under $root, in the order mounted
cleanup() {
    local rc=$? pid m i
    set +e
    trap - ERR
    trap '' INT TERM   # a second Ctrl-C must not stop the cleanup half-way
    exec 1>&3 2>&4
    # Skipped (no network): nothing was made but the directory of the work.
    if [ "$rc" -eq 77 ]; then
        rm -rf "$work"
        exit 77
    fi
    step 'remove the chroot'
    if [ -n "$node_pid" ]; then
        kill "$node_pid" 2> /dev/null   # 5 s to leave the mesh, then SIGKILL below
        for i in $(seq 50); do kill -0 "$node_pid" 2> /dev/null || break; sleep 0.1; done
    fi
    if [ -n "$root" ]; then
        # Anything else still running in the chroot (a maintainer script's daemon, say) would
        # keep its mounts busy: ended by its PID, which /proc names with the chroot as root.
        for pid in /proc/[0-9]*; do
            [ "$(readlink "$pid/root" 2> /dev/null)" = "$root" ] && kill -9 "${pid#/proc/}" 2> /dev/null
        done
        wait 2> /dev/null   # for those of them that are this shell's children (a step in the background)
        for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
            m=$root/${mounted[i]}
            umount "$m" 2> /dev/null || umount -l "$m" || echo "FAIL: cannot unmount $m" >&2
        done
    fi
    if [ -n "$work" ]; then
        # Never delete through a mount that is still there.
        if findmnt -rn -o TARGET | grep -q "^$work/"; then
            echo "FAIL: left $work in place: something is still mounted under it" >&2
            rc=1
        else
            rm -rf --one-file-system "$work"
        fi
    fi
    step ''
    echo "== timings"
    printf '%s\n' "${timings[@]}"
    printf '%5ds  total\n' $(($(date +%s) - started))
    if [ "$rc" -eq 0 ]; then
        echo "ok: the packages install on a fresh Debian 12 and work there"
    else
        echo "FAIL: exit status $rc (see above)" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM
# Any other command that stops this script (set -e) says where, rather than ending it silently.
trap 'echo "FAIL: line $LINENO exited with status $?" >&4' ERR

# --- the mirror: the one this machine's apt uses -----------------------------------------------
# "URI SUITE" for each deb (not deb-src) entry apt reads: the one-line format of *.list and
# the deb822 format of *.sources (apt ignores other names, such as *.disabled).
apt_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '/^[ \t]*deb[ \t]/ { sub(/#.*/, ""); i = 2
                                 if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                                 print $i, $(i + 1) }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             { split("", v); key = ""
               for (i = 1; i <= NF; i++) {
                   if ($i ~ /^#/) continue
                   if ($i ~ /^[ \t]/ && key != "") { v[key] = v[key] " " $i; continue }
                   p = index($i, ":"); if (!p) continue
                   key = tolower(substr($i, 1, p - 1)); v[key] = substr($i, p + 1) }
               if (v["enabled"] ~ /[Nn]o/ || v["types"] !~ /(^|[ \t])deb([ \t]|$)/) next
               nu = split(v["uris"], u, /[ \t]+/); ns = split(v["suites"], s, /[ \t]+/)
               for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++)
                   if (u[a] != "" && s[b] != "") print u[a], s[b] }' "$f"
    done
}
# Debian 12's suites among them: the release, its updates and its security updates, as a
# fresh install has them (component main only: the packages must need nothing else).
sources=$(apt_sources | awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security" || $2 == s "/updates"' |
          sed 's|/* | |' | awk '!seen[$0]++')
mirror=${ZMESH_DEBIAN_MIRROR:-$(awk -v s="$suite" '$2 == s { print $1; exit }' <<< "$sources")}
if [ -z "$mirror" ]; then
    mirror=http://deb.debian.org/debian
    echo "note: this machine's apt has no $suite source: using $mirror"
fi
if ! grep -q " $suite\$" <<< "$sources"; then
    sources="$mirror $suite"$'\n'"http://deb.debian.org/debian-security $suite-security"
fi
# The network: the mirror's release file, fetched the way apt fetches (its proxy settings).
work=$(mktemp -d /tmp/zmesh-fresh-XXXXXX)
if ! timeout 60 /usr/lib/apt/apt-helper download-file "$mirror/dists/$suite/InRelease" \
        "$work/InRelease" > "$work/net.log" 2>&1; then
    grep '^E:' "$work/net.log" || true
    echo "skipped: needs the network: cannot fetch $mirror/dists/$suite/InRelease"
    exit 77
fi
echo "mirror: $mirror; sources in the chroot:"
sed 's/^/  deb /; s/$/ main/' <<< "$sources"

# --- 1. the packages ----------------------------------------------------------------------
step 'cpack -G DEB'
# cpack builds `all` first: a no-op in a built tree.
(cd "$build" && cpack -G DEB -B "$work/debs" > "$work/cpack.log" 2>&1) ||
    { tail -30 "$work/cpack.log" >&2; fail "cpack failed (log above)"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"
lib_pkg=libzmesh${version%%.*}
debs=()
for pkg in "$lib_pkg" libzmesh-dev zmesh-tools; do
    files=("$work/debs/${pkg}_"*.deb)
    if [ ! -f "${files[0]}" ] || [ ${#files[@]} -ne 1 ]; then
        fail "expected one ${pkg}_*.deb in $work/debs"
    fi
    debs+=("$(basename "${files[0]}")")
done
echo "built: ${debs[*]}"

# --- 2. a fresh Debian 12 -----------------------------------------------------------------
step "debootstrap --variant=minbase $suite"
if ! command -v debootstrap > /dev/null; then
    echo "installing debootstrap on this machine (apt-get purge debootstrap removes it)"
    apt-get install -y --no-install-recommends debootstrap > "$work/debootstrap-install.log" 2>&1 ||
        { tail -20 "$work/debootstrap-install.log" >&2; fail "apt-get install debootstrap failed"; }
fi
root=$work/root
mkdir "$root"
cache_dir=${ZMESH_FRESH_CACHE-/tmp/zmesh-fresh-debian-cache}
cache=${cache_dir:+$cache_dir/$suite-minbase-${mirror//[^A-Za-z0-9.]/_}.tar.gz}
# The cache is the chroot exactly as debootstrap left it, before anything was installed: as
# fresh as a new debootstrap, minus its few minutes. A week old, it is made again.
if [ -n "$cache" ] && [ -n "$(find "$cache" -mtime -7 2> /dev/null)" ]; then
    echo "from the cache $cache (ZMESH_FRESH_CACHE= to debootstrap anew)"
    tar -xzpf "$cache" --numeric-owner -C "$root" || fail "cannot unpack the cache $cache"
else
    include=()
    # apt fetches https itself, but checks the mirror's certificate against ca-certificates.
    [[ $mirror == https:* ]] && include=(--include=ca-certificates)
    debootstrap --variant=minbase "${include[@]}" "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 ||
        { tail -30 "$work/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }
    if [ -n "$cache" ]; then
        mkdir -p "$cache_dir"
        if tar -czf "$cache.part" --numeric-owner --one-file-system -C "$root" .; then
            mv "$cache.part" "$cache"
        else
            rm -f "$cache.part"
            echo "note: could not write the cache $cache"
        fi
    fi
fi
findmnt -rn -o TARGET | grep -q "^$root/" && fail "debootstrap left mounts under $root"

# What the programs in it need of the kernel: /proc (ldd, cmake, the node), a /dev of its own
# (a tmpfs with the usual nodes: deleting the chroot can never reach this machine's /dev) and
# /sys read-only. The cleanup unmounts them.
mount -t proc proc "$root/proc" && mounted+=(proc)
mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev" && mounted+=(dev)
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<< "$node"
    mknod -m 666 "$root/dev/$name" c "$major" "$minor"
done
mkdir -m 1777 "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t sysfs -o ro sysfs "$root/sys" && mounted+=(sys)

# The chroot's apt: Debian 12's suites from this machine's mirror, its name server, and no
# service started by a maintainer script (policy-rc.d).
sed 's/^/deb /; s/$/ main/' <<< "$sources" > "$root/etc/apt/sources.list"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
# A command in the chroot, in DIR, with a clean environment: nothing of this shell's
# (LD_LIBRARY_PATH, PKG_CONFIG_PATH, CMAKE_PREFIX_PATH...) leaks in.
clean_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
           HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
in_root() {
    local dir=$1
    shift
    chroot "$root" /usr/bin/env -i -C "$dir" "${clean_env[@]}" "$@"
}
# apt-get in the chroot, its output in a log shown on failure. In the background, waited for:
# bash runs a trap (Ctrl-C) only once the foreground command ends, but interrupts `wait`; the
# cleanup then ends apt and dpkg by their PIDs.
apt_in_root() {
    local log=$1
    shift
    # (The background subshell without the ERR trap: its failure is said once, here.)
    { trap - ERR; in_root / apt-get -y -o Dpkg::Use-Pty=0 "$@"; } > "$work/$log" 2>&1 &
    wait $! || { tail -40 "$work/$log" >&2; fail "apt-get $* failed in the chroot (log above)"; }
}

# --- 3. the packages installed with apt -----------------------------------------------------
step 'apt-get install ./*.deb (dependencies from the mirror)'
apt_in_root apt-update.log update
mkdir "$root/tmp/debs"
for deb in "${debs[@]}"; do install -m 644 "$work/debs/$deb" "$root/tmp/debs/"; done
in_root / dpkg-query -W -f '${Package}\n' | sort > "$work/before.pkgs"
# Depends only: if they are enough without Recommends, they are enough with them.
apt_in_root apt-install-zmesh.log install --no-install-recommends "${debs[@]/#//tmp/debs/}"
in_root / dpkg-query -W -f '${Package}\n' | sort > "$work/after.pkgs"
pulled=$(comm -13 "$work/before.pkgs" "$work/after.pkgs" | paste -sd' ')
echo "installed: $pulled"
for pkg in "$lib_pkg" libzmesh-dev zmesh-tools; do
    status=$(in_root / dpkg-query -W -f '${Status} ${Version}' "$pkg" 2>&1) || true
    [ "$status" = "install ok installed $version-1" ] || fail "$pkg is not installed: $status"
done
# The postinst ran ldconfig: the loader's cache knows the library.
# (Its path there may be /lib/..., the same file as /usr/lib/... on a merged /usr.)
libzmesh=$(in_root / dpkg-query -L "$lib_pkg" | awk '/\/libzmesh\.so\.[0-9]+$/ && !f { print; f = 1 }')
[ -n "$libzmesh" ] || fail "$lib_pkg installed no libzmesh.so.N"
in_root / ldconfig -p > "$work/ldcache"
cached=$(awk -v s="$(basename "$libzmesh")" '$1 == s { print $NF }' "$work/ldcache")
[ -n "$cached" ] || fail "$(basename "$libzmesh") is not in the chroot's loader cache (did the postinst run ldconfig?)"
echo "ok: the three packages are installed, $libzmesh in the loader's cache ($(paste -sd' ' <<< "$cached"))"
# Every library each packaged binary loads is there: nothing missing that this machine had.
for f in "$libzmesh" /usr/bin/zmesh /usr/bin/zmesh-node /usr/bin/zmesh-monitor /usr/bin/zmesh-bench; do
    linked=$(in_root / ldd "$f" 2>&1) || fail "ldd $f in the chroot: $linked"
    ! grep -q 'not found' <<< "$linked" || fail "$f in the chroot: $(grep 'not found' <<< "$linked")"
done
echo "ok: every library the packaged binaries load is in the chroot"

# --- the tools, with only what the packages pulled in ---------------------------------------
step 'the tools: --version, a node serving echo and zmesh call'
for p in zmesh zmesh-node zmesh-monitor zmesh-bench; do
    out=$(in_root / "$p" --version 2>&1) || fail "$p --version in the chroot: $out"
    [ "$out" = "$p $version" ] || fail "$p --version says '$out', not '$p $version'"
    echo "ok: $out"
done
# A mesh of its own (the PID in its name), so that no other echo server on this host answers.
mesh=fresh-$$
# Not through in_root: a function in the background is a subshell of its own, and $! its PID.
# chroot and env exec, so $! is the node's own.
chroot "$root" /usr/bin/env -i -C /tmp "${clean_env[@]}" zmesh-node --name a --interface lo --mesh "$mesh" --serve echo \
    > "$root/tmp/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 100); do
    grep -q '^started ' "$root/tmp/node.log" && break
    kill -0 "$node_pid" 2> /dev/null || { cat "$root/tmp/node.log" >&2; fail "zmesh-node exited in the chroot"; }
    sleep 0.1
done
grep -q '^started ' "$root/tmp/node.log" || { cat "$root/tmp/node.log" >&2; fail "zmesh-node did not start in 10 s"; }
answer=$(in_root /tmp zmesh call echo '[1]' --interface lo --mesh "$mesh" 2>&1) ||
    { cat "$root/tmp/node.log" >&2; fail "zmesh call echo '[1]' in the chroot: $answer"; }
[ "$answer" = '[1]' ] || fail "zmesh call echo '[1]' printed '$answer', not [1]"
echo "ok: zmesh call echo '[1]' --mesh $mesh answered [1] from zmesh-node a"
kill "$node_pid"
node_status=0
wait "$node_pid" || node_status=$?
node_pid=''
[ "$node_status" -eq 0 ] || { cat "$root/tmp/node.log" >&2; fail "zmesh-node exited with $node_status on SIGTERM, not 0"; }

# --- a program built against them, as a user would -------------------------------------------
step 'install g++, cmake, make, pkg-config (the user'"'"'s, not the packages'"'"')'
# Not a dependency of libzmesh-dev, as of no -dev package: the compiler, a build tool and
# pkg-config are the user's choice. Said here if the packages pulled them in after all.
for tool in g++ cmake make pkg-config; do
    if in_root / sh -c "command -v $tool" > /dev/null; then
        echo "note: $tool was already there, pulled in by the packages"
    fi
done
apt_in_root apt-install-toolchain.log install --no-install-recommends g++ cmake make pkg-config

step 'build and run tests/install/consumer (find_package shared and static, pkg-config)'
cp -r "$source/tests/install/consumer" "$root/tmp/consumer"
# No CMAKE_PREFIX_PATH: /usr is where find_package looks. Only find_package(zmesh): the
# packages its headers do not need are made unfindable, as check_debs.sh does.
in_root /tmp cmake -S /tmp/consumer -B /tmp/consumer-build -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_DISABLE_FIND_PACKAGE_cppzmq=ON -DCMAKE_DISABLE_FIND_PACKAGE_ZeroMQ=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_msgpack=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_msgpack-cxx=ON > "$work/consumer-configure.log" 2>&1 ||
    { tail -30 "$work/consumer-configure.log" >&2; fail "find_package(zmesh) failed in the chroot"; }
in_root /tmp cmake --build /tmp/consumer-build -j2 > "$work/consumer-build.log" 2>&1 ||
    { tail -40 "$work/consumer-build.log" >&2; fail "the consumer did not build with find_package(zmesh) in the chroot"; }
# No PKG_CONFIG_PATH: zmesh.pc is on pkg-config's default path.
in_root /tmp sh -c 'g++ -std=c++20 /tmp/consumer/main.cpp -o /tmp/consumer_pc $(pkg-config --cflags --libs zmesh)' \
    > "$work/consumer-pc.log" 2>&1 ||
    { tail -40 "$work/consumer-pc.log" >&2; fail "the consumer did not build with pkg-config in the chroot"; }
# No LD_LIBRARY_PATH (in_root's environment has none): the shared ones load the installed
# library from the loader's default directories.
for program in /tmp/consumer-build/consumer_shared /tmp/consumer_pc /tmp/consumer-build/consumer_static; do
    name=$(basename "$program")
    if [ "$name" != consumer_static ]; then
        linked=$(in_root /tmp ldd "$program")
        loaded=$(awk '$1 ~ /^libzmesh\.so/ { print $3 }' <<< "$linked")
        if [ -z "$loaded" ] || [ "$(in_root / readlink -f "$loaded")" != "$(in_root / readlink -f "$libzmesh")" ]; then
            fail "$name does not load the installed $libzmesh: $linked"
        fi
    fi
    out=$(in_root /tmp "$program" "$mesh-$name" 2>&1) || fail "$name failed in the chroot: $out"
    [ "$out" = ok ] || fail "$name printed '$out', not ok"
    echo "ok: $name runs"
done
step ''
