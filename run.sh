#!/usr/bin/env bash
# Installs what is missing, builds a Release and starts the server on localhost:8787.
# Extra arguments go to the server, e.g. ./run.sh -addr 0.0.0.0:8787
set -euo pipefail
cd "$(dirname "$0")"
./install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGOOP_BUILD_TESTS=OFF -DGOOP_REQUIRE_ALL=ON
cmake --build build-release
exec ./build-release/server/goop-rendezvous "$@"
