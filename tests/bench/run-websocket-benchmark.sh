#!/usr/bin/env bash
# Side-by-side benchmark of goop-rendezvous and today's Go server on GET /ws (issue 14):
# ../shared/reference/go-rendezvous-head, a plain Go re-implementation of the current server's
# presence core (gorilla/websocket, built with Debian's golang-go and
# golang-github-gorilla-websocket-dev).
#
#   tests/bench/run-websocket-benchmark.sh
#
# Each figure runs on a fresh server process, ours then the reference, on 127.0.0.1 only. The
# WebSocket subscribers are today's clients: each is a peer, registered first (the servers
# answer 425 to unknown peers), coming from one of 200 loopback addresses, because the
# reference counts per address (60 publishes a minute, 100 WebSockets). Figures:
#   - fan-out: 10,000 WebSocket subscribers, 20 publishes 200 ms apart; the time until every
#     subscriber has an event (p99 over the publishes), lost events;
#   - memory: server RSS per idle WebSocket, 10,000 of them;
#   - /healthz req/s (wrk) with those 10,000 idle WebSockets, against none.
# Peers expire after 30 s without a publish on both servers, so each figure registers its peers
# just before it runs. Prints a table and writes BUILD/websocket-benchmark.json; about two
# minutes. Environment as run-benchmarks.sh (GOOP_BENCH_BUILD_DIR, GOOP_BENCH_SECONDS,
# GOOP_BENCH_SERVER, GOOP_BENCH_QUICK=1), and GOOP_GO_HEAD_DIR (default
# <repo>/../shared/reference/go-rendezvous-head).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GOOP_BENCH_BUILD_DIR:-$ROOT/build-bench}
SECONDS_PER_RUN=${GOOP_BENCH_SECONDS:-8}
SUBSCRIBERS=10000 SOURCES=200
if [[ ${GOOP_BENCH_QUICK:-0} == 1 ]]; then
    SECONDS_PER_RUN=2 SUBSCRIBERS=1000 SOURCES=20
fi
GO_HEAD_DIR=${GOOP_GO_HEAD_DIR:-$ROOT/../shared/reference/go-rendezvous-head}
WORK=$BUILD/websocket-bench-run
RESULTS=$WORK/results.tsv
OURS=${GOOP_BENCH_SERVER:-$BUILD/server/goop-rendezvous}
REFERENCE=$BUILD/bench-go-head/go-rendezvous-head
SSEBENCH=$BUILD/tests/bench/goop-ssebench
CLK_TCK=$(getconf CLK_TCK)

SERVER_PID=
HOLD_PID=

log() { printf '[ws-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
source "$ROOT/tests/bench/bench-common.sh"

cleanup() {
    stop_hold
    stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools cmake ninja go wrk python3
[[ -d /usr/share/gocode/src/github.com/gorilla/websocket ]] ||
    { echo "${0##*/}: golang-github-gorilla-websocket-dev is missing (./install-deps.sh)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

build_bench_tools
log "building the Go reference ($GO_HEAD_DIR)"
mkdir -p "$BUILD/bench-go-head"
(cd "$GO_HEAD_DIR" && GO111MODULE=off GOPATH=/usr/share/gocode \
    GOCACHE=$BUILD/bench-go-head/cache go build -o "$REFERENCE" .)
fresh_work_dir

# register WHICH: the subscribers' peers, from as many addresses as the subscribers come from.
register() {
    ssebench_run "$1" "register" register --peers "$SUBSCRIBERS" --connections "$SOURCES" \
        --sources "$SOURCES"
}

figure_fanout() {
    local which=$1
    start_server "$which" ws-fanout
    register "$which"
    ssebench_run "$which" ws_fanout fanout --transport ws --sources "$SOURCES" \
        --subscribers "$SUBSCRIBERS" --publishes 20 --interval-ms 200
    stop_server
}

# Memory per WebSocket, and /healthz with and without the idle WebSockets, back to back.
figure_idle() {
    local which=$1
    start_server "$which" ws-idle
    sleep 0.5
    wrk_run "$which" healthz_none "http://127.0.0.1:$PORT/healthz"
    register "$which"
    record "$which" idle_rss_before_kb "$(rss_kb)"
    start_hold "$which" --transport ws --sources "$SOURCES" --subscribers "$SUBSCRIBERS"
    record "$which" idle_rss_after_kb "$(rss_kb)"
    record "$which" idle_hold_ready "$(head -1 "$WORK/hold-$which.json")"
    wrk_run "$which" healthz_idle "http://127.0.0.1:$PORT/healthz"
    stop_hold "$which"
    stop_server
}

machine="$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
log "machine: $machine; load average $(cut -d' ' -f1-3 /proc/loadavg)"
record all load_before "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
started=$(date +%s)
for figure in fanout idle; do
    for which in ours reference; do
        log "$which: $figure"
        CURRENT=$which
        "figure_$figure" "$which"
    done
done
record_run_facts "$started" "$machine"

python3 - "$RESULTS" "$BUILD/websocket-benchmark.json" "$SUBSCRIBERS" <<'PYTHON'
import os
import sys

sys.path.insert(0, os.environ["GOOP_BENCH_DIR"])
from benchresults import load, get as get_raw, write_report  # noqa: E402

raw = load(sys.argv[1])
subscribers = int(sys.argv[3])


def get(server, *path):
    return get_raw(raw, server, *path)


def figures(s):
    f = {
        "fanout_p99_ms": get(s, "ws_fanout", "all_have_it_ms", "p99"),
        "fanout_p50_ms": get(s, "ws_fanout", "all_have_it_ms", "p50"),
        "fanout_delivery_p99_ms": get(s, "ws_fanout", "delivery_ms", "p99"),
        "fanout_lost": get(s, "ws_fanout", "lost"),
        "fanout_connected": get(s, "ws_fanout", "subscribers_connected"),
        "healthz_none_rps": get(s, "healthz_none_rps"),
        "healthz_idle_rps": get(s, "healthz_idle_rps"),
        "idle_connected": get(s, "idle_hold_ready", "subscribers_connected"),
    }
    before, after = get(s, "idle_rss_before_kb"), get(s, "idle_rss_after_kb")
    f["rss_per_ws_kb"] = (after - before) / subscribers if before and after else None
    none, idle = f["healthz_none_rps"], f["healthz_idle_rps"]
    f["healthz_idle_vs_none"] = idle / none if none and idle else None
    return f


ours, ref = figures("ours"), figures("reference")


def ratio(a, b):
    return a / b if a is not None and b else None


rows = [
    # name, key, goal text, met(ours, ref)
    ("ws fan-out 10k: all-have-it p99 ms", "fanout_p99_ms", "<= 0.5x ref",
     lambda o, r: o is not None and r and o <= 0.5 * r),
    ("ws fan-out 10k: all-have-it p50 ms", "fanout_p50_ms", "info", None),
    ("ws fan-out 10k: p99 of all deliveries ms", "fanout_delivery_p99_ms", "info", None),
    ("ws fan-out 10k: subscribers connected", "fanout_connected", "all",
     lambda o, r: o == subscribers),
    ("ws fan-out 10k: lost events", "fanout_lost", "0", lambda o, r: o == 0),
    ("RSS per WebSocket KB", "rss_per_ws_kb", "<= 8", lambda o, r: o is not None and o <= 8),
    ("healthz req/s, no WebSockets", "healthz_none_rps", "info", None),
    ("healthz req/s, 10k idle WebSockets", "healthz_idle_rps", "info", None),
    ("healthz 10k idle WebSockets / none", "healthz_idle_vs_none", ">= 0.80",
     lambda o, r: o is not None and o >= 0.8),
]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.2f" % v if abs(v) < 10 else "%.1f" % v if abs(v) < 1000 else "%.0f" % v
    return str(v)


table = [("figure", "ours", "reference", "ratio", "goal", "met")]
met = goals = 0
for name, key, goal, check in rows:
    o, r = ours[key], ref[key]
    ok = "-"
    if check:
        goals += 1
        passed = check(o, r)
        met += passed
        ok = "yes" if passed else "NO"
    table.append((name, fmt(o), fmt(r), fmt(ratio(o, r)), goal, ok))
widths = [max(len(row[i]) for row in table) for i in range(6)]
for n, row in enumerate(table):
    print("| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(row)) + " |")
    if n == 0:
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
print("%d of %d goals met" % (met, goals))
write_report(sys.argv[2], raw, ours=ours, reference=ref, goals_met=met, goals=goals)
PYTHON
