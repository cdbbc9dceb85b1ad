#!/usr/bin/env bash
# /healthz latency while many idle keep-alive connections are open (issue 16, item 8): an idle
# HTTP client must cost the others nothing.
#
#   tests/bench/run-idle-connections-benchmark.sh [server binary …]
#
# For each binary (default: this checkout's, built in Release into build-bench, then the Go
# reference's, built into build-bench/bench-go): one server on 127.0.0.1; /healthz latency on
# one keep-alive connection alone, then with GOOP_BENCH_IDLE (default 15000) other keep-alive
# connections open, each idle after one request (from 250 loopback addresses, so that the
# per-address connection rate does not refuse them). Prints one JSON line per measurement and a
# table of p50/p99 (µs). About 40 s per binary.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GOOP_BENCH_BUILD_DIR:-$ROOT/build-bench}
IDLE=${GOOP_BENCH_IDLE:-15000}
GO_REFERENCE_DIR=${GOOP_GO_REFERENCE_DIR:-$ROOT/../shared/reference/go-rendezvous}
log() { echo "# $*" >&2; }
# shellcheck source=tests/bench/bench-common.sh
source "$ROOT/tests/bench/bench-common.sh"
require_tools go
build_bench_tools
SSEBENCH=$BUILD/tests/bench/goop-ssebench
binaries=("$@")
if [[ ${#binaries[@]} -eq 0 ]]; then
    log "building the Go reference ($GO_REFERENCE_DIR)"
    mkdir -p "$BUILD/bench-go"
    (cd "$GO_REFERENCE_DIR" &&
        GOCACHE=$BUILD/bench-go/cache GOFLAGS=-mod=mod GOTOOLCHAIN=local \
            go build -o "$BUILD/bench-go/go-rendezvous" .)
    binaries=("$BUILD/server/goop-rendezvous" "$BUILD/bench-go/go-rendezvous")
fi

latency() { "$SSEBENCH" latency --port "$PORT" --path /healthz --requests 5000 --warmup 500; }
p50_p99() { /usr/bin/python3 -c 'import json,sys; u=json.loads(sys.stdin.read())["us"]; print("%.0f %.0f" % (u["p50"], u["p99"]))'; }

table=()
for binary in "${binaries[@]}"; do
    PORT=$(pick_port)
    extra=()
    [[ $binary == */goop-rendezvous ]] && extra=("${OURS_UNLIMITED[@]}" --max-connections 19000)
    "$binary" -addr "127.0.0.1:$PORT" "${extra[@]}" 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do port_is_free "$PORT" || break; sleep 0.05; done
    log "$binary: alone"
    alone=$(latency)
    echo "$alone"
    ready=$(mktemp -u)
    "$SSEBENCH" idle --port "$PORT" --connections "$IDLE" --sources 250 --ready-file "$ready" \
        --hold-s 600 >"$ready.json" &
    idle=$!
    for _ in $(seq 1200); do [[ -e $ready ]] && break; sleep 0.1; done
    [[ -e $ready ]] || { echo "${0##*/}: the idle connections never got ready" >&2; exit 1; }
    sleep 3 # idle for longer than the park's 1 s
    log "$binary: with $IDLE idle keep-alive connections"
    crowded=$(latency)
    echo "$crowded"
    kill -TERM "$idle"
    wait "$idle" || true
    tail -1 "$ready.json"
    rm -f "$ready" "$ready.json"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    read -r a50 a99 <<<"$(p50_p99 <<<"$alone")"
    read -r c50 c99 <<<"$(p50_p99 <<<"$crowded")"
    table+=("$(printf '%-48s %8s %8s %8s %8s' "${binary#"$ROOT"/}" "$a50" "$a99" "$c50" "$c99")")
done
printf '\n%-48s %8s %8s %8s %8s\n' "/healthz latency (µs)" "p50" "p99" "p50 idle" "p99 idle"
printf '%s\n' "${table[@]}"
