#!/usr/bin/env bash
# Runs every libFuzzer target in tests/fuzz for GOOP_FUZZ_SECONDS each (default 600: a long
# run; CI's sanitizer job runs 20 s each), from a copy of its seed corpus, with
# tests/fuzz/http.dict, within 2 GB of memory. A crash, a leak, undefined behaviour or a broken
# property stops with the input saved in the target's artifact directory.
#
#   tests/fuzz/run-fuzzers.sh [TARGET...]
#
# GOOP_FUZZ_BUILD_DIR: a build configured with -DGOOP_BUILD_FUZZERS=ON and clang (default
# <repo>/build-sanitizers, built here if missing). New inputs stay in
# GOOP_FUZZ_WORK_DIR (default a temporary directory) so the repo's seeds stay small.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${GOOP_FUZZ_BUILD_DIR:-$root/build-sanitizers}
seconds=${GOOP_FUZZ_SECONDS:-600}
work=${GOOP_FUZZ_WORK_DIR:-$(mktemp -d)}
if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOOP_BUILD_FUZZERS=ON
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for source in tests/fuzz/fuzz_*.cpp; do
        name=${source##*/}
        targets+=("${name%.cpp}")
    done
fi
cmake --build "$build" --target "${targets[@]}"
export LSAN_OPTIONS=suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in "${targets[@]}"; do
    corpus=$work/$target/corpus
    artifacts=$work/$target/artifacts
    mkdir -p "$corpus" "$artifacts"
    cp -n "tests/fuzz/corpus/${target#fuzz_}"/* "$corpus"/ 2>/dev/null || true
    echo "run-fuzzers: $target for $seconds s (inputs in $corpus)"
    "$build/tests/fuzz/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -dict=tests/fuzz/http.dict -artifact_prefix="$artifacts/" -print_final_stats=1 \
        "$corpus" 2>"$work/$target/log" || {
        tail -40 "$work/$target/log" >&2
        echo "run-fuzzers: $target failed; the input is in $artifacts" >&2
        exit 1
    }
    grep -E "^stat::number_of_executed_units|^Done" "$work/$target/log" | tail -1
done
