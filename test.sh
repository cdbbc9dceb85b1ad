#!/usr/bin/env bash
# Installs what is missing, builds everything and runs the whole test suite with ctest.
# Extra arguments go to ctest, e.g. ./test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")"
./install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOOP_REQUIRE_ALL=ON
cmake --build build
ctest --test-dir build --output-on-failure --timeout 300 -j2 "$@"
