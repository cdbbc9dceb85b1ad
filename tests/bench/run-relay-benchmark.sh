#!/usr/bin/env bash
# Relay benchmark (issue 19): the libp2p circuit relay inside goop-rendezvous against a
# js-libp2p relay (@libp2p/circuit-relay-v2's server, tests/libp2p/js), side by side, and what
# holding reservations costs presence traffic.
#
#   tests/bench/run-relay-benchmark.sh
#
# 1. Throughput and latency (tests/libp2p/js/relay-bench.mjs): two js-libp2p clients, one
#    reserved on the relay, the other dialing it through /p2p-circuit; 200 one-byte round trips,
#    then MEBIBYTES one way; each relay is a process of its own, whose CPU per MiB is read.
# 2. Memory (goop-relayhold): RESERVATIONS connections from 127.2.x.y, a reservation on each,
#    then CIRCUITS idle circuits from as many more connections; the relay's RSS after each phase.
# 3. Presence unchanged: goop-meshbench's mesh of MESH_PEERS peers (every peer heartbeating
#    every 5 s and subscribed, as in run-mesh-benchmark.sh) over SSE and over WebSocket, against
#    our server alone and against our server holding the reservations and circuits of step 2,
#    alternately, ROUNDS times each; server CPU per delivery and p99 latency compared.
#
# Prints a table and writes BUILD/relay-benchmark.json. About ten minutes; run it on a quiet
# machine. Environment: GOOP_BENCH_BUILD_DIR (default <repo>/build-bench), GOOP_BENCH_SERVER,
# GOOP_RELAY_MEBIBYTES (32), GOOP_RELAY_RESERVATIONS (1000), GOOP_RELAY_CIRCUITS (100),
# GOOP_RELAY_MESH_PEERS (1000), GOOP_RELAY_MESH_SECONDS (30), GOOP_RELAY_ROUNDS (2),
# GOOP_BENCH_QUICK=1 (small figures: checks the script only).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GOOP_BENCH_BUILD_DIR:-$ROOT/build-bench}
MEBIBYTES=${GOOP_RELAY_MEBIBYTES:-32}
RESERVATIONS=${GOOP_RELAY_RESERVATIONS:-1000}
CIRCUITS=${GOOP_RELAY_CIRCUITS:-100}
MESH_PEERS=${GOOP_RELAY_MESH_PEERS:-1000}
MESH_SECONDS=${GOOP_RELAY_MESH_SECONDS:-30}
ROUNDS=${GOOP_RELAY_ROUNDS:-2}
if [[ ${GOOP_BENCH_QUICK:-0} == 1 ]]; then
    MEBIBYTES=4 RESERVATIONS=50 CIRCUITS=5 MESH_PEERS=50 MESH_SECONDS=5 ROUNDS=1
fi
JS=$ROOT/tests/libp2p/js
WORK=$BUILD/relay-bench-run
RESULTS=$WORK/results.tsv
OURS=${GOOP_BENCH_SERVER:-$BUILD/server/goop-rendezvous}
MESHBENCH=$BUILD/tests/bench/goop-meshbench
RELAYHOLD=$BUILD/tests/bench/goop-relayhold

SERVER_PID=
HOLD_PID=
JS_RELAY_PID=

log() { printf '[relay-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# require_tools, build_bench_tools, pick_port, port_is_free, stop_server, OURS_UNLIMITED.
source "$ROOT/tests/bench/bench-common.sh"

stop_all() {
    [[ -n $HOLD_PID ]] && { kill -TERM "$HOLD_PID" 2>/dev/null || true; wait "$HOLD_PID" 2>/dev/null || true; }
    HOLD_PID=
    [[ -n $JS_RELAY_PID ]] && { kill -TERM "$JS_RELAY_PID" 2>/dev/null || true; wait "$JS_RELAY_PID" 2>/dev/null || true; }
    JS_RELAY_PID=
    stop_server
}
trap stop_all EXIT
trap 'exit 130' INT TERM

require_tools cmake ninja node python3
[[ -d $JS/node_modules/libp2p ]] || { echo "${0##*/}: run ./install-deps.sh first (js-libp2p)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
DESCRIPTORS=$(ulimit -n)

build_bench_tools goop-meshbench goop-relayhold
fresh_work_dir

# start_ours LABEL [libp2p]: our server on a fresh port (PORT, SERVER_PID), with its libp2p host
# and relay sized for the reservations when asked (LIBP2P_ADDRESS).
start_ours() {
    local label=$1 logfile=$WORK/logs/ours-$1.log
    local extra=()
    if [[ ${2:-} == libp2p ]]; then
        extra=(--libp2p-listen /ip4/127.0.0.1/tcp/0 --libp2p-key "$WORK/libp2p.key"
               --libp2p-max-connections $((RESERVATIONS + CIRCUITS + 100))
               --relay-max-reservations $((RESERVATIONS + CIRCUITS)))
    fi
    PORT=$(pick_port)
    "$OURS" -addr "127.0.0.1:$PORT" "${OURS_UNLIMITED[@]}" \
        --max-connections "$((DESCRIPTORS - 1000))" "${extra[@]}" 2>"$logfile" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        if ! port_is_free "$PORT"; then
            LIBP2P_ADDRESS=$(sed -n 's/.*libp2p listening on \([^ ]*\).*/\1/p' "$logfile" | head -1)
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "${0##*/}: our server did not start (log: $logfile)" >&2
    exit 1
}

# hold ADDRESS PID OUT: goop-relayhold on the relay at ADDRESS (process PID) until stop_all or
# the next hold; waits for its JSON line, in OUT.
hold() {
    "$RELAYHOLD" --relay "$1" --reservations "$RESERVATIONS" --circuits "$CIRCUITS" \
        --server-pid "$2" --hold-seconds 0 >"$3" 2>>"$WORK/logs/relayhold.log" &
    HOLD_PID=$!
    for _ in $(seq 1200); do
        [[ -s $3 ]] && return 0
        kill -0 "$HOLD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "${0##*/}: goop-relayhold did not hold (log: $WORK/logs/relayhold.log)" >&2
    exit 1
}

# mesh TRANSPORT OUT: goop-meshbench against the server on PORT; its JSON line in OUT.
mesh() {
    "$MESHBENCH" --port "$PORT" --peers "$MESH_PEERS" --transport "$1" --seconds "$MESH_SECONDS" \
        --server-pid "$SERVER_PID" >"$2" 2>>"$WORK/logs/meshbench.log"
}

log "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
started=$(date +%s)

log "1. throughput and latency, $MEBIBYTES MiB one way"
node "$JS/relay-bench.mjs" "$OURS" "$MEBIBYTES" >"$WORK/throughput.md" 2>>"$WORK/logs/relay-bench.log"

log "2. memory: $RESERVATIONS reservations, $CIRCUITS circuits (ours)"
start_ours memory libp2p
hold "$LIBP2P_ADDRESS" "$SERVER_PID" "$WORK/memory-ours.json"
stop_all
log "2. memory (js-libp2p relay)"
node "$JS/relay-bench.mjs" --js-relay >"$WORK/js-relay.out" 2>>"$WORK/logs/relay-bench.log" &
JS_RELAY_PID=$!
for _ in $(seq 100); do
    grep -q '^relay ' "$WORK/js-relay.out" && break
    sleep 0.1
done
hold "$(sed -n 's/^relay //p' "$WORK/js-relay.out")" "$JS_RELAY_PID" "$WORK/memory-js.json"
stop_all

for round in $(seq "$ROUNDS"); do
    for transport in sse ws; do
        log "3. round $round, $transport, $MESH_PEERS peers: alone"
        start_ours "alone-$transport-$round"
        mesh "$transport" "$WORK/mesh-alone-$transport-$round.json"
        stop_all
        log "3. round $round, $transport, $MESH_PEERS peers: holding $RESERVATIONS reservations"
        start_ours "holding-$transport-$round" libp2p
        hold "$LIBP2P_ADDRESS" "$SERVER_PID" "$WORK/hold-$transport-$round.json"
        mesh "$transport" "$WORK/mesh-holding-$transport-$round.json"
        stop_all
    done
done

python3 - "$WORK" "$BUILD/relay-benchmark.json" "$ROUNDS" "$(($(date +%s) - started))" <<'PYTHON'
import glob
import json
import statistics
import sys

work, out, rounds, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
load = lambda path: json.loads(open(path).read().strip().splitlines()[0])
report = {"seconds": seconds, "throughput_table": open(work + "/throughput.md").read()}
print(report["throughput_table"])

memory = {name: load("%s/memory-%s.json" % (work, name)) for name in ("ours", "js")}
report["memory"] = memory
print("| relay | connections (reservations) | RSS before | with them | bytes per connection | "
      "per reservation on it | per idle circuit (its source's connection included) |")
print("|---|---|---|---|---|---|---|")
for name, label in (("ours", "goop-rendezvous"), ("js", "js-libp2p relay")):
    m = memory[name]
    rss = m["rss_kib"]
    print("| %s | %d | %.1f MB | %.1f MB | %.0f | %.0f | %.0f |" % (
        label, m["reservations"], rss["start"] / 1024, rss["circuits"] / 1024,
        m["bytes_per_connection"], m["bytes_per_reservation"], m["bytes_per_circuit"]))
print()

mesh = {}
print("| mesh, %s peers | server CPU µs per delivery, alone | holding reservations | ratio | "
      "p99 ms alone | holding | lost (alone, holding) |" % load(
          glob.glob(work + "/mesh-alone-*.json")[0])["peers"])
print("|---|---|---|---|---|---|---|")
for transport in ("sse", "ws"):
    runs = {which: [load("%s/mesh-%s-%s-%d.json" % (work, which, transport, r))
                    for r in range(1, rounds + 1)] for which in ("alone", "holding")}
    cpu = {w: statistics.median(r["server"]["us_per_delivery"] for r in runs[w]) for w in runs}
    p99 = {w: statistics.median(r["latency_ms"]["p99"] for r in runs[w]) for w in runs}
    lost = {w: sum(r["lost"] for r in runs[w]) for w in runs}
    mesh[transport] = {"runs": runs, "us_per_delivery": cpu, "p99_ms": p99, "lost": lost,
                       "cpu_ratio": cpu["holding"] / cpu["alone"]}
    print("| %s | %.3f | %.3f | %.3f | %.0f | %.0f | %d, %d |" % (
        transport, cpu["alone"], cpu["holding"], cpu["holding"] / cpu["alone"], p99["alone"],
        p99["holding"], lost["alone"], lost["holding"]))
report["mesh"] = mesh
json.dump(report, open(out, "w"), indent=1)
print("\n(%d s; %s)" % (seconds, out))
PYTHON
