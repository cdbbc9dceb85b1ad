#!/usr/bin/env bash
# Publish latency at 50,000 peers while /peers.json is read in a loop (issue 16, item 6): each
# read after a publish rebuilds the 6 MB body; publishes must not wait for that.
#
#   tests/bench/run-peersjson-lock-benchmark.sh [goop-rendezvous binary …]
#
# For each binary (default: this checkout's, built in Release into build-bench): one server on
# 127.0.0.1, 50,000 peers registered, then for 10 s one client publishing as fast as it can on
# one keep-alive connection while curl reads /peers.json back to back. Prints the publish
# latency (µs) and how many bodies were read. About 30 s per binary.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GOOP_BENCH_BUILD_DIR:-$ROOT/build-bench}
log() { echo "# $*" >&2; }
# shellcheck source=tests/bench/bench-common.sh
source "$ROOT/tests/bench/bench-common.sh"
require_tools curl
build_bench_tools
SSEBENCH=$BUILD/tests/bench/goop-ssebench
binaries=("$@")
[[ ${#binaries[@]} -eq 0 ]] && binaries=("$BUILD/server/goop-rendezvous")

for binary in "${binaries[@]}"; do
    PORT=$(pick_port)
    "$binary" -addr "127.0.0.1:$PORT" --peer-ttl 10m "${OURS_UNLIMITED[@]}" 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do port_is_free "$PORT" || break; sleep 0.05; done
    "$SSEBENCH" register --port "$PORT" --peers 50000 >/dev/null
    (
        end=$((SECONDS + 12)) reads=0
        while ((SECONDS < end)); do
            curl -s -o /dev/null "http://127.0.0.1:$PORT/peers.json"
            reads=$((reads + 1))
        done
        echo "# /peers.json bodies read: $reads" >&2
    ) &
    reader=$!
    sleep 1
    log "$binary"
    "$SSEBENCH" latency --port "$PORT" --path publish --requests 100000 --seconds 10
    wait "$reader"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
done
