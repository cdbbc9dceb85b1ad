#!/usr/bin/env bash
# Side-by-side benchmark of goop-rendezvous and the Go reference server (issue 5).
#
#   tests/bench/run-benchmarks.sh
#
# Builds our server in Release (build-bench/) and the Go reference, then runs the same loads
# against each, one server at a time, on 127.0.0.1 only: wrk for HTTP throughput and
# goop-ssebench (tests/bench/ssebench.cpp) for latency, SSE fan-out and memory. Prints a
# table (figure | ours | reference | ratio | goal | met) and writes build-bench/benchmark.json.
# Takes about 4 minutes. Needs cmake, ninja, a C++17 compiler, Qt 6.4, go, wrk and python3
# (the report), all from Debian 12.
#
# Environment: GOOP_BENCH_BUILD_DIR (default <repo>/build-bench), GOOP_BENCH_SECONDS (wrk
# duration, default 8), GOOP_GO_REFERENCE_DIR (default <repo>/../shared/reference/go-rendezvous),
# GOOP_BENCH_SERVER (measure this goop-rendezvous binary instead of building one),
# GOOP_BENCH_QUICK=1 (a tenth of the subscribers and peers, 2 s runs: checks the script only;
# its figures are not comparable with the goals).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GOOP_BENCH_BUILD_DIR:-$ROOT/build-bench}
SECONDS_PER_RUN=${GOOP_BENCH_SECONDS:-8}
SUBSCRIBERS=10000 MANY_SUBSCRIBERS=15000 REGISTRY_PEERS=100000
if [[ ${GOOP_BENCH_QUICK:-0} == 1 ]]; then
    SECONDS_PER_RUN=2 SUBSCRIBERS=1000 MANY_SUBSCRIBERS=1500 REGISTRY_PEERS=10000
fi
GO_REFERENCE_DIR=${GOOP_GO_REFERENCE_DIR:-$ROOT/../shared/reference/go-rendezvous}
WORK=$BUILD/bench-run
RESULTS=$WORK/results.tsv
OURS=${GOOP_BENCH_SERVER:-$BUILD/server/goop-rendezvous}
REFERENCE=$BUILD/bench-go/go-rendezvous
SSEBENCH=$BUILD/tests/bench/goop-ssebench
CLK_TCK=$(getconf CLK_TCK)

SERVER_PID=
HOLD_PID=

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# require_tools, build_bench_tools, record, port_is_free, pick_port, record_run_facts,
# start_server, stop_server, wrk_run, ssebench_run, start_hold, stop_hold; the report's Python
# reads the results with benchresults.py.
source "$ROOT/tests/bench/bench-common.sh"

cleanup() {
    stop_hold
    stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools cmake ninja go wrk python3

# Up to the hard limit (20,000 here) for both servers and for the client: 15,000 subscribers
# need that many descriptors on each side.
ulimit -n "$(ulimit -Hn)"

# --- build ---------------------------------------------------------------------------------
build_bench_tools
log "building the Go reference ($GO_REFERENCE_DIR)"
mkdir -p "$BUILD/bench-go"
(cd "$GO_REFERENCE_DIR" &&
    GOCACHE=$BUILD/bench-go/cache GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -o "$REFERENCE" .)

fresh_work_dir

# --- helpers -------------------------------------------------------------------------------

# --- the figures --------------------------------------------------------------------------
# Each figure runs on a fresh server process, ours then the reference, so that the two runs of
# one figure are seconds apart: the machine is shared and its background load drifts.

figure_throughput() {
    local which=$1
    start_server "$which" throughput
    wrk_run "$which" healthz "http://127.0.0.1:$PORT/healthz"
    wrk_run "$which" publish "http://127.0.0.1:$PORT/publish" -s "$ROOT/tests/bench/publish.lua"
    stop_server
}

# 1,000 peers registered just before: well inside the 30 s expiry for the whole block.
figure_peers() {
    local which=$1
    start_server "$which" peers
    ssebench_run "$which" register_1000 register --peers 1000
    ssebench_run "$which" latency_peers latency --path /peers.json --requests 2000
    wrk_run "$which" peers "http://127.0.0.1:$PORT/peers.json"
    # Publishes cycle over the same 1,000 peers: the registry stays at 1,000.
    ssebench_run "$which" latency_publish latency --path publish --requests 5000
    ssebench_run "$which" latency_healthz latency --path /healthz --requests 5000
    stop_server
}

# Memory per subscriber, and /healthz with and without the idle streams, back to back.
figure_idle() {
    local which=$1
    start_server "$which" idle
    sleep 0.5
    record "$which" idle_rss_before_kb "$(rss_kb)"
    wrk_run "$which" healthz_none "http://127.0.0.1:$PORT/healthz"
    start_hold "$which" --subscribers "$SUBSCRIBERS"
    record "$which" idle_rss_after_kb "$(rss_kb)"
    record "$which" idle_hold_ready "$(head -1 "$WORK/hold-$which.json")"
    wrk_run "$which" healthz_idle "http://127.0.0.1:$PORT/healthz"
    stop_hold "$which"
    stop_server
}

figure_fanout() {
    local which=$1
    start_server "$which" fanout10k
    ssebench_run "$which" fanout_10k fanout --subscribers "$SUBSCRIBERS" --publishes 20 \
        --interval-ms 200
    stop_server
}

figure_many() {
    local which=$1
    start_server "$which" fanout15k
    ssebench_run "$which" fanout_15k fanout --subscribers "$MANY_SUBSCRIBERS" --publishes 5 \
        --interval-ms 400
    stop_server
}

# One client's /healthz while 10,000 subscribers get 20 events (info): what a fan-out costs the
# other requests, since a writer keeps its core for a whole submission of sends.
figure_during() {
    local which=$1
    start_server "$which" during
    "$SSEBENCH" fanout --port "$PORT" --subscribers "$SUBSCRIBERS" --publishes 20 \
        --interval-ms 200 >"$WORK/during-fanout-$which.json" &
    local fanout=$!
    # The publishes start half a second after the last subscriber is in, and take 4 s.
    for _ in $(seq 1200); do
        (($(ls "/proc/$SERVER_PID/fd" | wc -l) >= SUBSCRIBERS)) && break
        sleep 0.1
    done
    ssebench_run "$which" latency_during latency --path /healthz --requests 10000000 \
        --seconds 5
    wait "$fanout"
    record "$which" fanout_during "$(cat "$WORK/during-fanout-$which.json")"
    stop_server
}

figure_registry() {
    local which=$1
    start_server "$which" registry
    sleep 0.5
    record "$which" registry_rss_before_kb "$(rss_kb)"
    ssebench_run "$which" register_100k register --peers "$REGISTRY_PEERS" --connections 4
    sleep 0.5
    record "$which" registry_rss_after_kb "$(rss_kb)"
    stop_server
}

machine="$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
log "machine: $machine; load average $(cut -d' ' -f1-3 /proc/loadavg)"
record all load_before "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
started=$(date +%s)
for figure in throughput peers idle fanout many during registry; do
    for which in ours reference; do
        log "$which: $figure"
        CURRENT=$which
        "figure_$figure" "$which"
    done
done
record_run_facts "$started" "$machine"

# --- the report ----------------------------------------------------------------------------
python3 - "$RESULTS" "$BUILD/benchmark.json" <<'PYTHON'
import os
import sys

sys.path.insert(0, os.environ["GOOP_BENCH_DIR"])
from benchresults import load, get as get_raw, write_report  # noqa: E402

raw = load(sys.argv[1])


def get(server, *path):
    return get_raw(raw, server, *path)


def per_cpu(server, name):
    requests, cpu = get(server, name + "_requests"), get(server, name + "_cpu_s")
    return requests / cpu if requests and cpu else None


def ratio(a, b):
    return a / b if a is not None and b else None


def figures(s):
    f = {}
    for name in ("healthz", "publish", "peers", "healthz_none", "healthz_idle"):
        f[name + "_rps"] = get(s, name + "_rps")
        f[name + "_per_cpu_s"] = per_cpu(s, name)
        f[name + "_errors"] = get(s, name + "_errors")
    f["healthz_idle_vs_none"] = ratio(f["healthz_idle_rps"], f["healthz_none_rps"])
    f["peers_json_bytes"] = get(s, "latency_peers", "body_bytes")
    for name in ("publish", "peers", "healthz", "during"):
        stats = get(s, "latency_" + name, "us") or {}
        f["latency_%s_p99_us" % name] = stats.get("p99")
        f["latency_%s_p50_us" % name] = stats.get("p50")
        f["latency_%s_max_ms" % name] = stats["max"] / 1000 if "max" in stats else None
        f["latency_%s_errors" % name] = get(s, "latency_" + name, "errors")
    f["fanout_during_lost"] = get(s, "fanout_during", "lost")
    for key in ("fanout_10k", "fanout_15k"):
        f[key + "_connected"] = get(s, key, "subscribers_connected")
        f[key + "_lost"] = get(s, key, "lost")
        f[key + "_all_have_it_p99_ms"] = get(s, key, "all_have_it_ms", "p99")
        f[key + "_all_have_it_p50_ms"] = get(s, key, "all_have_it_ms", "p50")
        f[key + "_all_have_it_max_ms"] = get(s, key, "all_have_it_ms", "max")
        f[key + "_delivery_p99_ms"] = get(s, key, "delivery_ms", "p99")
        f[key + "_connect_seconds"] = get(s, key, "connect_seconds")
        f[key + "_connect_failures"] = get(s, key, "connect_failures")
        f[key + "_stream_disconnects"] = get(s, key, "stream_disconnects")
    held = get(s, "idle_hold_ready", "subscribers_connected")
    f["idle_subscribers_connected"] = held
    before, after = get(s, "idle_rss_before_kb"), get(s, "idle_rss_after_kb")
    f["rss_per_subscriber_kb"] = (after - before) / held if held and after else None
    before, after = get(s, "registry_rss_before_kb"), get(s, "registry_rss_after_kb")
    peers = get(s, "register_100k", "peers")
    f["rss_per_1000_peers_kb"] = (after - before) / (peers / 1000) if peers and after else None
    f["register_100k_per_second"] = get(s, "register_100k", "per_second")
    f["crashed"] = bool(get(s, "crashed"))
    return f


ours, ref = figures("ours"), figures("reference")


def at_least(factor):
    return lambda o, r: o is not None and r is not None and o >= factor * r


def at_most(factor):
    return lambda o, r: o is not None and r is not None and o <= factor * r


def below(limit):
    return lambda o, r: o is not None and o < limit


def no_more_than(limit):
    return lambda o, r: o is not None and o <= limit


def equals(value):
    return lambda o, r: o == value


# (figure, key, unit format, goal text, test or None for information only)
rows = [
    ("healthz req/s", "healthz_rps", "%.0f", ">= 1.2x ref", at_least(1.2)),
    ("healthz req per CPU-s", "healthz_per_cpu_s", "%.0f", "info", None),
    ("publish req/s (32 conn, 1k peers)", "publish_rps", "%.0f", ">= 1.5x ref", at_least(1.5)),
    ("publish req per CPU-s", "publish_per_cpu_s", "%.0f", "info", None),
    ("peers.json req/s (1k peers)", "peers_rps", "%.0f", ">= 5x ref", at_least(5)),
    ("peers.json req per CPU-s", "peers_per_cpu_s", "%.0f", "info", None),
    ("peers.json body bytes", "peers_json_bytes", "%.0f", "info", None),
    ("publish p99 latency us (1 client)", "latency_publish_p99_us", "%.0f", "< 1000", below(1000)),
    ("peers.json p99 latency us (1 client)", "latency_peers_p99_us", "%.0f", "< 1000",
     below(1000)),
    ("fan-out 10k: all-have-it p99 ms", "fanout_10k_all_have_it_p99_ms", "%.1f", "<= 0.5x ref",
     at_most(0.5)),
    # With 20 publishes the p99 is the slowest one; the median shows the typical publish.
    ("fan-out 10k: all-have-it p50 ms", "fanout_10k_all_have_it_p50_ms", "%.1f", "info", None),
    ("fan-out 10k: p99 of all deliveries ms", "fanout_10k_delivery_p99_ms", "%.1f", "info", None),
    ("fan-out 10k: lost events", "fanout_10k_lost", "%.0f", "0", equals(0)),
    ("15k subscribers connected", "fanout_15k_connected", "%.0f", "all",
     lambda o, r: o is not None and o == get("ours", "fanout_15k", "subscribers_requested")),
    ("15k subscribers: lost events", "fanout_15k_lost", "%.0f", "0", equals(0)),
    ("15k: all-have-it p99 ms", "fanout_15k_all_have_it_p99_ms", "%.1f", "info", None),
    ("healthz p99 us during the 10k fan-out", "latency_during_p99_us", "%.0f", "info", None),
    ("healthz slowest ms during the 10k fan-out", "latency_during_max_ms", "%.1f", "info", None),
    ("healthz req/s, same process before subs", "healthz_none_rps", "%.0f", "info", None),
    ("healthz req/s, 10k idle subscribers", "healthz_idle_rps", "%.0f", "info", None),
    ("healthz 10k idle subs / none", "healthz_idle_vs_none", "%.2f", ">= 0.80",
     lambda o, r: o is not None and o >= 0.8),
    ("RSS per SSE subscriber KB", "rss_per_subscriber_kb", "%.1f", "<= 8", no_more_than(8)),
    ("RSS per 1000 peers KB (100k peers)", "rss_per_1000_peers_kb", "%.0f", "<= 200",
     no_more_than(200)),
]


def show(fmt, value):
    return "-" if value is None else fmt % value


table = [("figure", "ours", "reference", "ratio", "goal", "met")]
goals = []
for label, key, fmt, goal, test in rows:
    o, r = ours.get(key), ref.get(key)
    met = "-" if test is None else ("yes" if test(o, r) else "no")
    if test is not None:
        goals.append({"figure": label, "key": key, "goal": goal, "met": met == "yes"})
    rat = ratio(o, r)
    table.append((label, show(fmt, o), show(fmt, r), show("%.2f", rat), goal, met))

widths = [max(len(row[i]) for row in table) for i in range(6)]
for n, row in enumerate(table):
    print("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
    if n == 0:
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")

notes = []
for name, f in (("ours", ours), ("reference", ref)):
    if f["crashed"]:
        notes.append("%s: the server process exited during a figure" % name)
    for key, value in sorted(f.items()):
        if key.endswith(("_errors", "_lost", "_connect_failures", "_stream_disconnects")) and value:
            notes.append("%s: %s = %s" % (name, key, value))
for note in notes:
    print("note: " + note)
met = sum(g["met"] for g in goals)
print("goals met: %d of %d" % (met, len(goals)))
print("machine: %s; load average before %s, after %s; %s s" % (
    get("all", "machine"), get("all", "load_before"), get("all", "load_after"),
    get("all", "seconds")))
if get("all", "quick") == 1:
    print("GOOP_BENCH_QUICK=1: reduced loads, the figures are not comparable with the goals")

write_report(sys.argv[2], raw, ours=ours, reference=ref, goals=goals)
PYTHON
