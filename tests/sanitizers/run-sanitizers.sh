#!/usr/bin/env bash
# The sanitizer and fuzzing job (issue 16), run by .ci/run after the test suite:
#
#   tests/sanitizers/run-sanitizers.sh [ctest arguments]
#
# Builds everything with clang under AddressSanitizer (LeakSanitizer on) and
# UndefinedBehaviorSanitizer (undefined behaviour stops the program), instrumented for libFuzzer
# as well, then runs the whole test suite in that build and each fuzz target for a short while
# from its seed corpus (tests/fuzz/corpus/TARGET) with tests/fuzz/http.dict. Any report fails the
# job. Environment: GOOP_SANITIZER_BUILD_DIR (default <repo>/build-sanitizers), GOOP_FUZZ_SECONDS
# (per target, default 20; for long runs see tests/fuzz/run-fuzzers.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${GOOP_SANITIZER_BUILD_DIR:-$root/build-sanitizers}
seconds=${GOOP_FUZZ_SECONDS:-20}

cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGOOP_BUILD_FUZZERS=ON -DGOOP_REQUIRE_ALL=ON
cmake --build "$build"

# Leaks in the project fail; tests/sanitizers/lsan.supp lists the ones outside it, each with its
# reason. Every child process (the servers the tests start) inherits these.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:strict_string_checks=1
export LSAN_OPTIONS=suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Sanitized code runs a few times slower: the tests that bound a time stretch it (the browser
# test; the others' bounds are generous already).
export GOOP_TIME_FACTOR=3
ctest --test-dir "$build" --output-on-failure --timeout 600 -j2 "$@"

GOOP_FUZZ_SECONDS=$seconds GOOP_FUZZ_BUILD_DIR=$build tests/fuzz/run-fuzzers.sh
