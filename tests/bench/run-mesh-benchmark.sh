#!/usr/bin/env bash
# Mesh benchmark (issue 18): how many Goop² peers one server carries when, as in a real network,
# every peer heartbeats every 5 s and is subscribed to everyone's heartbeats (N²/5 deliveries a
# second), side by side with the Go references.
#
#   tests/bench/run-mesh-benchmark.sh
#
# goop-meshbench (tests/bench/meshbench.cpp) plays the N peers, each from its own loopback
# address: over SSE as seed-era clients (POST /publish on one keep-alive connection, GET /events
# on another), over WebSocket as today's clients (an `online` by POST, then GET /ws, heartbeats
# and events on it). Servers and transports: ours (SSE, WebSocket), the seed-era Go server
# ../shared/reference/go-rendezvous (SSE; it has no /ws) and today's Go server
# ../shared/reference/go-rendezvous-head (SSE, capped there at 1,024 streams in all, and
# WebSocket). Each step is a fresh server process and one goop-meshbench run: connect N peers,
# warm up one period, measure for GOOP_MESH_SECONDS, wait up to 5 s for the last deliveries.
# The ramp of N goes up together for every server and transport (the steps of one N are minutes
# apart, not half an hour), and stops for a server and transport at its first step with p99
# delivery over 1 s, a delivery lost, a peer that never got connected, or a crash. A step in
# which other processes took more than a fifth of the machine is run once more.
#
# Per step: deliveries/s against the ideal N²/5 (every server relays a heartbeat to all its
# subscribers, the sender included), p50/p99/max publish-to-delivery latency, lost deliveries,
# the server's CPU (utime + stime from /proc/PID/stat over the measured window) per delivery,
# its RSS, and the load generator's own CPU. Prints a table and writes
# BUILD/mesh-benchmark.json. The full ramp takes about half an hour; run it on a quiet machine.
#
# Environment: GOOP_BENCH_BUILD_DIR (default <repo>/build-bench), GOOP_BENCH_SERVER (measure
# this goop-rendezvous binary instead of building one), GOOP_GO_REFERENCE_DIR and
# GOOP_GO_HEAD_DIR (default <repo>/../shared/reference/go-rendezvous, -head),
# GOOP_MESH_RAMP (the Ns, default "250 500 1000 1500 2000 3000 4000 5000 6000 8000"),
# GOOP_MESH_SECONDS (measured window per step, default 30), GOOP_MESH_SERVERS (default
# "ours reference head"), GOOP_MESH_TRANSPORTS (default "sse ws"), GOOP_MESH_MAX_P99_MS
# (default 1000), GOOP_MESH_OURS_ARGS (more arguments for ours, e.g. "--batch-window 0"),
# GOOP_MESH_READ_PACE_MS (goop-meshbench --read-pace-ms, default 0: when the
# generator is what saturates the machine, reads every few ms make it cheaper per delivery at
# the price of latencies up to that much high), GOOP_BENCH_QUICK=1 (N = 50 and 100, 10 s steps:
# checks the script only).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GOOP_BENCH_BUILD_DIR:-$ROOT/build-bench}
RAMP=${GOOP_MESH_RAMP:-250 500 1000 1500 2000 3000 4000 5000 6000 8000}
STEP_SECONDS=${GOOP_MESH_SECONDS:-30}
if [[ ${GOOP_BENCH_QUICK:-0} == 1 ]]; then
    RAMP=${GOOP_MESH_RAMP:-50 100} STEP_SECONDS=${GOOP_MESH_SECONDS:-10}
fi
SERVERS=${GOOP_MESH_SERVERS:-ours reference head}
TRANSPORTS=${GOOP_MESH_TRANSPORTS:-sse ws}
MAX_P99_MS=${GOOP_MESH_MAX_P99_MS:-1000}
READ_PACE_MS=${GOOP_MESH_READ_PACE_MS:-0}
read -r -a OURS_ARGS <<<"${GOOP_MESH_OURS_ARGS:-}"
MAX_OTHER_SHARE=0.2
GO_REFERENCE_DIR=${GOOP_GO_REFERENCE_DIR:-$ROOT/../shared/reference/go-rendezvous}
GO_HEAD_DIR=${GOOP_GO_HEAD_DIR:-$ROOT/../shared/reference/go-rendezvous-head}
WORK=$BUILD/mesh-bench-run
RESULTS=$WORK/results.tsv
OURS=${GOOP_BENCH_SERVER:-$BUILD/server/goop-rendezvous}
REFERENCE=$BUILD/bench-go/go-rendezvous
HEAD=$BUILD/bench-go-head/go-rendezvous-head
MESHBENCH=$BUILD/tests/bench/goop-meshbench

SERVER_PID=

log() { printf '[mesh-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# require_tools, build_bench_tools, record, pick_port, port_is_free, record_run_facts,
# stop_server; the report's Python reads the results with benchresults.py.
source "$ROOT/tests/bench/bench-common.sh"

trap stop_server EXIT
trap 'exit 130' INT TERM

require_tools cmake ninja go python3
# Up to the hard limit (20,000 here) for the servers and the load generator alike: N peers over
# SSE are 2N connections on each side.
ulimit -n "$(ulimit -Hn)"
DESCRIPTORS=$(ulimit -n)

wants() { [[ " $SERVERS " == *" $1 "* ]]; }

# --- build ---------------------------------------------------------------------------------
build_bench_tools goop-meshbench
if wants reference; then
    log "building the seed-era Go reference ($GO_REFERENCE_DIR)"
    mkdir -p "$BUILD/bench-go"
    (cd "$GO_REFERENCE_DIR" &&
        GOCACHE=$BUILD/bench-go/cache GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -o "$REFERENCE" .)
fi
if wants head; then
    [[ -d /usr/share/gocode/src/github.com/gorilla/websocket ]] ||
        { echo "${0##*/}: golang-github-gorilla-websocket-dev is missing (./install-deps.sh)" >&2; exit 1; }
    log "building today's Go reference ($GO_HEAD_DIR)"
    mkdir -p "$BUILD/bench-go-head"
    (cd "$GO_HEAD_DIR" && GO111MODULE=off GOPATH=/usr/share/gocode \
        GOCACHE=$BUILD/bench-go-head/cache go build -o "$HEAD" .)
fi
rm -rf "$WORK"
mkdir -p "$WORK/logs"
: >"$RESULTS"

# --- one step ------------------------------------------------------------------------------

# start_mesh_server WHICH LABEL: a fresh server on a fresh port (sets PORT, SERVER_PID). Ours
# with its per-client rates out of reach (set, not off, so that their checks are paid for) and
# a connection cap the mesh never meets; the Go servers as users run them (they have no flags).
start_mesh_server() {
    local which=$1 label=$2
    PORT=$(pick_port)
    local logfile=$WORK/logs/$which-$label.log
    case $which in
    ours)
        "$OURS" -addr "127.0.0.1:$PORT" "${OURS_UNLIMITED[@]}" \
            --max-connections "$((DESCRIPTORS - 1000))" "${OURS_ARGS[@]}" 2>"$logfile" &
        ;;
    reference) "$REFERENCE" -addr "127.0.0.1:$PORT" 2>"$logfile" & ;;
    head) "$HEAD" -addr "127.0.0.1:$PORT" 2>"$logfile" & ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 100); do
        port_is_free "$PORT" || return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "${0##*/}: $which did not start (log: $logfile)" >&2
    exit 1
}

# run_step WHICH TRANSPORT N: one fresh server, one goop-meshbench run; its JSON line (with
# "server_exited": true added when the server was gone at the end) in STEP_JSON.
run_step() {
    local which=$1 transport=$2 n=$3
    start_mesh_server "$which" "$transport-$n"
    STEP_JSON=$("$MESHBENCH" --port "$PORT" --peers "$n" --transport "$transport" \
        --seconds "$STEP_SECONDS" --read-pace-ms "$READ_PACE_MS" --server-pid "$SERVER_PID" \
        2>>"$WORK/logs/meshbench.log") ||
        STEP_JSON='{"generator_failed":true}'
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        STEP_JSON=${STEP_JSON%\}}',"server_exited":true}'
    fi
    stop_server
}

# judge JSON MAX_OTHER: "noisy" when other processes took more than the share MAX_OTHER of the
# machine in the measured window, else "held" or "broke: <why>".
judge() {
    python3 - "$1" "$MAX_P99_MS" "$2" <<'PYTHON'
import json
import sys

step, max_p99, max_other = json.loads(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
other = (step.get("machine") or {}).get("other_share", 0)
why = []
if step.get("generator_failed"):
    why.append("the load generator failed")
if step.get("server_exited"):
    why.append("the server exited")
if step.get("peers_ready_at_start", 0) < step.get("peers", 1):
    why.append("%s of %s peers connected" % (step.get("peers_ready_at_start"), step.get("peers")))
if step.get("lost", 1):
    why.append("%s of %s deliveries lost" % (step.get("lost"), step.get("expected")))
p99 = (step.get("latency_ms") or {}).get("p99", -1)
if p99 > max_p99:
    why.append("p99 %.0f ms" % p99)
if other > max_other:
    print("noisy")
elif why:
    print("broke: " + "; ".join(why))
else:
    print("held")
PYTHON
}

# --- the ramp ------------------------------------------------------------------------------
combos=()
for which in $SERVERS; do
    for transport in $TRANSPORTS; do
        # The seed-era server has no /ws.
        [[ $which == reference && $transport == ws ]] || combos+=("$which-$transport")
    done
done

machine="$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
log "machine: $machine; load average $(cut -d' ' -f1-3 /proc/loadavg)"
record all load_before "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
record all step_seconds "$STEP_SECONDS"
record all max_p99_ms "$MAX_P99_MS"
record all read_pace_ms "$READ_PACE_MS"
started=$(date +%s)
for n in $RAMP; do
    ((${#combos[@]})) || break
    still=()
    for combo in "${combos[@]}"; do
        which=${combo%-*} transport=${combo#*-}
        per_peer=2
        [[ $transport == ws ]] && per_peer=1
        if ((per_peer * n + 200 > DESCRIPTORS)); then
            log "$combo N=$n: needs more than the $DESCRIPTORS descriptors allowed; its ramp ends"
            record "$combo" "verdict_$n" "\"skipped: open-file limit $DESCRIPTORS\""
            continue
        fi
        CURRENT=$combo
        log "$combo: N=$n"
        run_step "$which" "$transport" "$n"
        verdict=$(judge "$STEP_JSON" "$MAX_OTHER_SHARE")
        if [[ $verdict == noisy ]]; then
            log "$combo N=$n: other processes took over a fifth of the machine; once more"
            record "$combo" "noisy_$n" "$STEP_JSON"
            run_step "$which" "$transport" "$n"
            # Noisy again: judged on its figures all the same (the table shows the share).
            verdict=$(judge "$STEP_JSON" 1)
        fi
        record "$combo" "step_$n" "$STEP_JSON"
        record "$combo" "verdict_$n" "\"$verdict\""
        log "$combo N=$n: $verdict: $STEP_JSON"
        [[ $verdict == held ]] && still+=("$combo")
    done
    combos=("${still[@]+"${still[@]}"}")
done
record_run_facts "$started" "$machine"

# --- the report ----------------------------------------------------------------------------
python3 - "$RESULTS" "$BUILD/mesh-benchmark.json" "$RAMP" <<'PYTHON'
import os
import sys

sys.path.insert(0, os.environ["GOOP_BENCH_DIR"])
from benchresults import load, get, write_report  # noqa: E402

raw = load(sys.argv[1])
ramp = [int(n) for n in sys.argv[3].split()]
NAMES = {"ours": "ours", "reference": "go-rendezvous", "head": "go-rendezvous-head"}
combos = [g for g in raw if g != "all"]


def steps(combo):
    """[(N, step JSON or None, verdict)] in ramp order, for the Ns this combo ran."""
    out = []
    for n in ramp:
        verdict = get(raw, combo, "verdict_%d" % n)
        if verdict is not None:
            out.append((n, get(raw, combo, "step_%d" % n), verdict))
    return out


def at(step, *path):
    value = step
    for part in path:
        if not isinstance(value, dict) or value.get(part) is None:
            return None
        value = value[part]
    return value


def fmt(value, spec="%.0f"):
    return "-" if value is None else spec % value


def print_table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        print("| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(row)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


# Every step.
rows = [("server", "transport", "N", "deliveries/s", "ideal/s", "p50 ms", "p99 ms", "max ms",
         "lost", "server CPU", "server us/delivery", "server RSS MB", "generator CPU",
         "others", "verdict")]
step_list = []
for combo in combos:
    which, transport = combo.rsplit("-", 1)
    for n, step, verdict in steps(combo):
        rss = at(step, "server", "rss_kb")
        server_cpu = at(step, "server", "cpu_cores")
        generator_cpu = at(step, "generator_cpu_cores")
        other = at(step, "machine", "other_share")
        rows.append((NAMES[which], transport, str(n), fmt(at(step, "deliveries_per_s")),
                     fmt(at(step, "ideal_per_s")), fmt(at(step, "latency_ms", "p50"), "%.1f"),
                     fmt(at(step, "latency_ms", "p99"), "%.1f"),
                     fmt(at(step, "latency_ms", "max"), "%.1f"), fmt(at(step, "lost")),
                     fmt(server_cpu and server_cpu * 100, "%.0f %%"),
                     fmt(at(step, "server", "us_per_delivery"), "%.2f"),
                     fmt(rss and rss / 1024, "%.1f"),
                     fmt(generator_cpu and generator_cpu * 100, "%.0f %%"),
                     fmt(other and other * 100, "%.0f %%"), verdict))
        step_list.append({"server": which, "transport": transport, "peers": n,
                          "verdict": verdict, "step": step})
print_table(rows)
print("CPU in % of one core over the measured window; others: the rest of the machine's use "
      "(all cores) by other processes")
print()


def summary(combo):
    held = [n for n, _, v in steps(combo) if v == "held"]
    broke = [(n, v) for n, _, v in steps(combo) if v != "held"]
    at_1000 = get(raw, combo, "step_1000")
    return {
        "largest_held": max(held) if held else None,
        "ramp_top_held": bool(held) and not broke,
        "first_broken": broke[0][0] if broke else None,
        "first_broken_why": broke[0][1].replace("broke: ", "", 1) if broke else None,
        "p99_ms_at_1000": at(at_1000, "latency_ms", "p99"),
        "server_cpu_cores_at_1000": at(at_1000, "server", "cpu_cores"),
        "server_us_per_delivery_at_1000": at(at_1000, "server", "us_per_delivery"),
    }


summaries = {combo: summary(combo) for combo in combos}
rows = [("server", "transport", "N held (p99 < bar, no loss)", "first N that broke",
         "p99 ms at 1000", "server CPU at 1000", "us/delivery at 1000")]
for combo in combos:
    which, transport = combo.rsplit("-", 1)
    s = summaries[combo]
    held = fmt(s["largest_held"]) + (" (the ramp's top)" if s["ramp_top_held"] else "")
    broke = "-" if s["first_broken"] is None else "%d (%s)" % (s["first_broken"],
                                                               s["first_broken_why"])
    cpu = s["server_cpu_cores_at_1000"]
    rows.append((NAMES[which], transport, held, broke, fmt(s["p99_ms_at_1000"], "%.1f"),
                 fmt(cpu and cpu * 100, "%.0f %%"),
                 fmt(s["server_us_per_delivery_at_1000"], "%.2f")))
print_table(rows)
print()


def largest(combo):
    return summaries.get(combo, {}).get("largest_held")


def per_delivery_ratio(ours, theirs):
    """Ours / theirs server CPU per delivery at the largest N both held, and that N."""
    both = [n for n in ramp
            if get(raw, ours, "verdict_%d" % n) == "held"
            and get(raw, theirs, "verdict_%d" % n) == "held"]
    if not both:
        return None, None
    n = max(both)
    a = get(raw, ours, "step_%d" % n, "server", "us_per_delivery")
    b = get(raw, theirs, "step_%d" % n, "server", "us_per_delivery")
    return (a / b if a is not None and b else None), n


goals = []


def goal(label, value, text, met):
    goals.append({"figure": label, "value": value, "goal": text, "met": bool(met)})


ws_ours, ws_head = largest("ours-ws"), largest("head-ws")
goal("WebSocket: largest N held, ours / go-rendezvous-head",
     ws_ours / ws_head if ws_ours and ws_head else None, ">= 4",
     ws_ours and ws_head and ws_ours >= 4 * ws_head)
for transport, theirs in (("ws", "head-ws"), ("sse", "reference-sse")):
    ratio, n = per_delivery_ratio("ours-" + transport, theirs)
    goal("%s: server CPU per delivery, ours / %s (N = %s)" % (
        transport, NAMES[theirs.rsplit("-", 1)[0]], fmt(n)), ratio, "<= 0.2",
        ratio is not None and ratio <= 0.2)
for transport in ("sse", "ws"):
    p99 = summaries.get("ours-" + transport, {}).get("p99_ms_at_1000")
    goal("%s: ours, p99 ms at N = 1000" % transport, p99, "<= 50", p99 is not None and p99 <= 50)
rows = [("goal", "value", "bar", "met")]
for g in goals:
    rows.append((g["figure"], fmt(g["value"], "%.2f"), g["goal"], "yes" if g["met"] else "no"))
print_table(rows)
print("goals met: %d of %d" % (sum(g["met"] for g in goals), len(goals)))
print("machine: %s; load average before %s, after %s; %s s; %s s per step" % (
    get(raw, "all", "machine"), get(raw, "all", "load_before"), get(raw, "all", "load_after"),
    get(raw, "all", "seconds"), get(raw, "all", "step_seconds")))
if get(raw, "all", "quick") == 1:
    print("GOOP_BENCH_QUICK=1: small N and short steps, the figures are not comparable with "
          "the goals")

write_report(sys.argv[2], raw, steps=step_list, summary=summaries, goals=goals)
PYTHON
