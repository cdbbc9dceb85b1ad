#!/usr/bin/env bash
# The ThreadSanitizer job (issue 16), run by .ci/run after the ASan/UBSan one:
#
#   tests/sanitizers/run-thread-sanitizer.sh [ctest arguments]
#
# Builds the server and the tests labelled `tsan` with clang under TSan and runs them: the
# server's unit tests and tst_inprocess, the whole server in the test's own process under load
# from several threads. (Clang 14's TSan crashes on the clone() QProcess uses, so no test that
# starts the server as a process is here.) Debian's Qt is built without TSan: what its library
# code does is left out (ignore_noninstrumented_modules), where the project relies on Qt to
# order threads it says so (common/threadsanitizer.h), and tests/sanitizers/tsan.supp lists the
# rest, all in Qt templates, each with its reason. Any report in project code fails the job.
# Environment: GOOP_TSAN_BUILD_DIR (default <repo>/build-tsan).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${GOOP_TSAN_BUILD_DIR:-$root/build-tsan}

cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGOOP_SANITIZE=thread -DGOOP_BUILD_MONITOR=OFF -DGOOP_REQUIRE_ALL=ON
mapfile -t targets < <(ctest --test-dir "$build" -L tsan --show-only=json-v1 |
    python3 -c 'import json, sys; print("\n".join(t["name"] for t in json.load(sys.stdin)["tests"]))')
cmake --build "$build" --target "${targets[@]}"

# halt_on_error: a report ends the test with exit code 66, which ctest counts as a failure.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 suppressions=$root/tests/sanitizers/tsan.supp"
export GOOP_TIME_FACTOR=3
ctest --test-dir "$build" -L tsan --output-on-failure --timeout 600 -j2 "$@"
