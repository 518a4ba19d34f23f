#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Fuzzes every network decoder: builds the libFuzzer targets with clang, ASan and UBSan in
# BUILD_DIR, seeds each from real encoded messages plus the kept regression inputs, and runs
# each for RUNS executions. Fails on any crash, leak, sanitizer report or broken property;
# libFuzzer then leaves the input as BUILD_DIR/crash-* — copy it into
# tests/fuzz/regressions/<target>/ once fixed, so it is replayed by every later run.
# Usage: run_fuzz.sh [RUNS (default 1000000)] [BUILD_DIR (default build-fuzz)]
# Exit 77 (skipped) when clang or its libFuzzer runtime is missing.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-1000000}
build=${2:-$source_dir/build-fuzz}
targets=(beacon control event rpc stream stream_admin gossip member_meta msgpack)

if ! command -v clang++ >/dev/null || ! echo 'int main(){}' |
        clang++ -x c++ -fsanitize=fuzzer-no-link -o /dev/null - 2>/dev/null; then
    echo "run_fuzz: skipped: clang++ with libFuzzer is not installed (apt-get install clang)"
    exit 77
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
    CXX=clang++ cmake -S "$source_dir" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DZMESH_FUZZ=ON -DZMESH_BUILD_TESTS=OFF -DZMESH_BUILD_EXAMPLES=OFF > "$build.configure.log" \
        || { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" -j2 --target fuzz_seed_corpus "${targets[@]/#/fuzz_}" > "$build/fuzz-build.log" \
    || { tail -40 "$build/fuzz-build.log"; exit 1; }

corpus="$build/fuzz-corpus"
"$build/bin/fuzz_seed_corpus" "$corpus"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
    inputs=("$corpus/$t")
    regressions="$source_dir/tests/fuzz/regressions/$t"
    [ -d "$regressions" ] && inputs+=("$regressions")
    start=$(date +%s)
    if ! "$build/bin/fuzz_$t" -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$build/" -print_final_stats=1 "${inputs[@]}" > "$build/fuzz-$t.log" 2>&1; then
        tail -40 "$build/fuzz-$t.log"
        echo "run_fuzz: $t FAILED (input kept in $build/crash-* or similar)"
        exit 1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz-$t.log" | grep -o '[0-9]*$' || echo "?")
    echo "run_fuzz: $t ok: $execs executions in $(( $(date +%s) - start )) s"
done
