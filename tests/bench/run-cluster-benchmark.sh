#!/usr/bin/env bash
# Benchmark of the Redis backplane: three goop-rendezvous instances sharing one Redis.
#
#   tests/bench/run-cluster-benchmark.sh
#
# Builds our server in Release (build-bench/, as run-benchmarks.sh does), starts a throw-away
# redis-server, three instances with --redis and, for comparison, one instance without, all on
# 127.0.0.1. Measures with goop-ssebench (tests/bench/ssebench.cpp) the delivery latency of an
# event published on instance 1 to subscribers on instances 2 and 3 (goal: p99 within 50 ms),
# the same load with the subscribers on instance 1 and on the lone instance; and with wrk
# (tests/bench/publish.lua) the publish throughput through the three instances at once, with
# the CPU time of the instances and of Redis per 1,000 publishes, then checks that the three
# instances' /peers.json agree byte for byte. When caddy is installed, the same through Caddy
# in front of the three (round-robin, as the deployment guide sets it up). Prints a table
# (figure | value | goal | met) and writes build-bench/cluster-benchmark.json. Takes about
# 70 s. Needs cmake, ninja, a C++17 compiler, Qt 6.4, hiredis, redis-server, wrk, curl and
# python3; caddy is optional.
#
# Environment: GOOP_BENCH_BUILD_DIR (default <repo>/build-bench), GOOP_BENCH_SECONDS (wrk
# duration, default 10), GOOP_BENCH_SERVER (measure this goop-rendezvous binary instead of
# building one), GOOP_BENCH_CADDY=0 (skip Caddy), GOOP_BENCH_QUICK=1 (a fifth of the
# subscribers and publishes, 2 s runs: checks the script only; its figures are not comparable
# with the goal).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GOOP_BENCH_BUILD_DIR:-$ROOT/build-bench}
SECONDS_PER_RUN=${GOOP_BENCH_SECONDS:-10}
SUBSCRIBERS=1000 PUBLISHES=200 INTERVAL_MS=20
if [[ ${GOOP_BENCH_QUICK:-0} == 1 ]]; then
    SECONDS_PER_RUN=2 SUBSCRIBERS=200 PUBLISHES=40
fi
WORK=$BUILD/cluster-run
RESULTS=$WORK/results.tsv
OURS=${GOOP_BENCH_SERVER:-$BUILD/server/goop-rendezvous}
SSEBENCH=$BUILD/tests/bench/goop-ssebench
CLK_TCK=$(getconf CLK_TCK)
USE_CADDY=${GOOP_BENCH_CADDY:-1}
command -v caddy >/dev/null || USE_CADDY=0

# Every process this script starts, by name (redis, node1…node3, single, caddy, wrk-…).
declare -A PID PORT
STARTED=()

log() { printf '[cluster-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# require_tools, build_bench_tools, record, port_is_free, pick_port, record_run_facts; the
# report's Python reads the results with benchresults.py.
source "$ROOT/tests/bench/bench-common.sh"

stop() {
    local name=$1 pid=${PID[$1]:-}
    [[ -z $pid ]] && return
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PID[$name]=
}

cleanup() {
    local i
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        stop "${STARTED[i]}"
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools cmake ninja redis-server wrk curl python3
ulimit -n "$(ulimit -Hn)"

# --- build ---------------------------------------------------------------------------------
build_bench_tools

fresh_work_dir

# --- helpers -------------------------------------------------------------------------------

# spawn NAME PORT COMMAND…: runs COMMAND in the background (log in logs/NAME.log) and waits
# until it listens on PORT.
spawn() {
    local name=$1 port=$2
    shift 2
    local logfile=$WORK/logs/$name.log
    "$@" >"$logfile" 2>&1 &
    PID[$name]=$!
    PORT[$name]=$port
    STARTED+=("$name")
    for _ in $(seq 100); do
        if ! port_is_free "$port"; then
            return
        fi
        kill -0 "${PID[$name]}" 2>/dev/null || break
        sleep 0.05
    done
    echo "run-cluster-benchmark.sh: $name did not start (log: $logfile)" >&2
    exit 1
}

# metric NAME METRIC: one unlabelled sample from the instance's /metrics.
metric() {
    curl -s "http://127.0.0.1:${PORT[$1]}/metrics" | awk -v m="$2" '$1 == m {print $2}'
}

# utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat; the text after the last
# ')' starts at field 3).
cpu_ticks() { sed 's/.*) //' "/proc/${PID[$1]}/stat" | awk '{print $12 + $13}'; }

# wrk_parse GROUP KEY FILE: req/s, requests and errors of one wrk output.
wrk_parse() {
    local group=$1 key=$2 out
    out=$(cat "$3")
    local rps requests errors socket_errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    errors=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
    socket_errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
    record "$group" "${key}_rps" "$rps"
    record "$group" "${key}_requests" "$requests"
    record "$group" "${key}_errors" "$((${errors:-0} + ${socket_errors:-0}))"
}

# publish_load GROUP "TARGETS" "MEASURED" WRK-ARGS: one wrk per target (in parallel) for
# SECONDS_PER_RUN; req/s summed over them; CPU seconds of the measured processes.
publish_load() {
    local group=$1 targets=$2 measured=$3 wrk_args=$4 target
    local -a names
    local -A before
    read -r -a names <<<"$measured"
    local name
    for name in "${names[@]}"; do
        before[$name]=$(cpu_ticks "$name")
    done
    for target in $targets; do
        # shellcheck disable=SC2086 # wrk_args is a word list on purpose
        spawn_wrk "$group-$target" wrk $wrk_args -d"${SECONDS_PER_RUN}s" \
            -s "$ROOT/tests/bench/publish.lua" "http://127.0.0.1:${PORT[$target]}/publish"
    done
    for target in $targets; do
        wait "${PID[wrk-$group-$target]}" || true
        PID[wrk-$group-$target]=
    done
    for name in "${names[@]}"; do
        record "$group" "cpu_s_$name" "$(awk -v t=$(($(cpu_ticks "$name") - before[$name])) \
            -v hz="$CLK_TCK" 'BEGIN {print t / hz}')"
    done
    for target in $targets; do
        wrk_parse "$group" "wrk_$target" "$WORK/logs/wrk-$group-$target.log"
    done
    log "$group: $(grep -h '^Requests/sec' "$WORK"/logs/wrk-"$group"-*.log | tr -s ' ' |
        paste -sd' ')"
}

# spawn_wrk NAME COMMAND…: like spawn, for a process that listens on nothing.
spawn_wrk() {
    local name=wrk-$1
    shift
    "$@" >"$WORK/logs/$name.log" 2>&1 &
    PID[$name]=$!
    STARTED+=("$name")
}

# fanout GROUP PUBLISH-TO SUBSCRIBE-TO…: one goop-ssebench fanout run, its JSON line recorded.
fanout() {
    local group=$1 publish=$2
    shift 2
    local ports=() name out
    for name in "$@"; do
        ports+=("${PORT[$name]}")
    done
    out=$("$SSEBENCH" fanout --port "${PORT[$publish]}" \
        --subscribe-ports "$(IFS=,; echo "${ports[*]}")" --subscribers "$SUBSCRIBERS" \
        --publishes "$PUBLISHES" --interval-ms "$INTERVAL_MS")
    record "$group" fanout "$out"
    log "$group: $(python3 -c 'import json, sys
r = json.loads(sys.argv[1]); d = r["delivery_ms"]
print("%d/%d subscribers, lost %d, delivery p50 %.2f p99 %.2f max %.2f ms" % (
    r["subscribers_connected"], r["subscribers_requested"], r["lost"], d["p50"], d["p99"],
    d["max"]))' "$out")"
}

# agree GROUP: polls the three instances' /peers.json for up to 5 s until they are the same
# bytes (publishes are answered before Redis has them, so right after a load the others may
# lag). Records whether they got there, when, and whether they at least held the same rows in
# another order (a weaker agreement, told apart to say which one failed).
agree() {
    local group=$1 out
    out=$(python3 - "$WORK/$group" "${PORT[node1]}" "${PORT[node2]}" "${PORT[node3]}" <<'PYTHON'
import json
import sys
import time
import urllib.request

prefix, ports = sys.argv[1], sys.argv[2:]
start = time.monotonic()
same_rows = False
while True:
    bodies = [urllib.request.urlopen("http://127.0.0.1:%s/peers.json" % p).read() for p in ports]
    rows = [sorted(json.dumps(r, sort_keys=True) for r in json.loads(b)) for b in bodies]
    same_rows = same_rows or all(r == rows[0] for r in rows)
    same_bytes = all(b == bodies[0] for b in bodies)
    if same_bytes or time.monotonic() - start > 5:
        break
    time.sleep(0.05)
for n, body in enumerate(bodies, 1):
    with open("%s-node%d.json" % (prefix, n), "wb") as f:
        f.write(body)
print(json.dumps({"same_bytes": same_bytes, "same_rows": same_rows, "rows": len(rows[0]),
                  "bytes": len(bodies[0]), "after_ms": round((time.monotonic() - start) * 1000)}))
PYTHON
)
    record "$group" peers "$out"
    log "$group: /peers.json of the three instances ($WORK/$group-node*.json): $out"
}

# --- processes -----------------------------------------------------------------------------
REDIS_PORT=$(pick_port "${PORT[@]}")
spawn redis "$REDIS_PORT" redis-server --port "$REDIS_PORT" --save '' --appendonly no \
    --bind 127.0.0.1
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
for node in node1 node2 node3; do
    port=$(pick_port "${PORT[@]}")
    spawn "$node" "$port" "$OURS" -addr "127.0.0.1:$port" --redis "$REDIS_URL" "${OURS_UNLIMITED[@]}"
done
port=$(pick_port "${PORT[@]}")
spawn single "$port" "$OURS" -addr "127.0.0.1:$port" "${OURS_UNLIMITED[@]}"
for node in node1 node2 node3; do
    for _ in $(seq 100); do
        [[ $(metric "$node" goop_cluster_connected) == 1 ]] && break
        sleep 0.05
    done
    [[ $(metric "$node" goop_cluster_connected) == 1 ]] ||
        { echo "run-cluster-benchmark.sh: $node did not join the cluster" >&2; exit 1; }
done
if [[ $USE_CADDY == 1 ]]; then
    port=$(pick_port "${PORT[@]}")
    mkdir -p "$WORK/caddy"
    cat >"$WORK/Caddyfile" <<EOF
{
	admin off
	auto_https off
}

http://127.0.0.1:$port {
	reverse_proxy 127.0.0.1:${PORT[node1]} 127.0.0.1:${PORT[node2]} 127.0.0.1:${PORT[node3]} {
		lb_policy round_robin
		flush_interval -1
	}
}
EOF
    spawn caddy "$port" env HOME="$WORK/caddy" XDG_CONFIG_HOME="$WORK/caddy" \
        XDG_DATA_HOME="$WORK/caddy" caddy run --config "$WORK/Caddyfile" --adapter caddyfile
fi

machine="$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
log "machine: $machine; load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "redis :$REDIS_PORT, instances :${PORT[node1]} :${PORT[node2]} :${PORT[node3]}," \
    "alone :${PORT[single]}${PORT[caddy]:+, caddy :${PORT[caddy]}}"
record all load_before "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
started=$(date +%s)

# --- delivery ------------------------------------------------------------------------------
fanout cross node1 node2 node3
fanout same node1 node1
fanout single single single
if [[ $USE_CADDY == 1 ]]; then
    fanout caddy caddy caddy
fi

# --- publish throughput --------------------------------------------------------------------
CLUSTER="node1 node2 node3 redis"
publish_load cluster3 "node1 node2 node3" "$CLUSTER" "-t1 -c16"
agree cluster3
publish_load cluster1 node1 "$CLUSTER" "-t2 -c32"
publish_load single single single "-t2 -c32"
if [[ $USE_CADDY == 1 ]]; then
    publish_load caddy caddy "$CLUSTER caddy" "-t2 -c32"
fi
agree final

for name in node1 node2 node3 single redis ${PID[caddy]:+caddy}; do
    kill -0 "${PID[$name]}" 2>/dev/null || record "$name" crashed 1
done
for node in node1 node2 node3; do
    for m in connected published_total received_total dropped_total errors_total outages_total \
        resyncs_total; do
        record "$node" "cluster_$m" "$(metric "$node" "goop_cluster_$m")"
    done
done
record_run_facts "$started" "$machine"
record all caddy "$USE_CADDY"
record all subscribers "$SUBSCRIBERS"
record all publishes "$PUBLISHES"
record all interval_ms "$INTERVAL_MS"
record all wrk_seconds "$SECONDS_PER_RUN"
record all redis "\"$(redis-server --version | cut -d' ' -f3)\""

# --- the report ----------------------------------------------------------------------------
python3 - "$RESULTS" "$BUILD/cluster-benchmark.json" <<'PYTHON'
import os
import sys

sys.path.insert(0, os.environ["GOOP_BENCH_DIR"])
from benchresults import load, get as get_raw, write_report  # noqa: E402

raw = load(sys.argv[1])


def get(group, *path):
    return get_raw(raw, group, *path)


figures = {}
for group in ("cross", "same", "single", "caddy"):
    if get(group, "fanout") is None:
        continue
    figures[group + "_connected"] = get(group, "fanout", "subscribers_connected")
    figures[group + "_requested"] = get(group, "fanout", "subscribers_requested")
    figures[group + "_lost"] = get(group, "fanout", "lost")
    figures[group + "_duplicates"] = get(group, "fanout", "duplicates")
    figures[group + "_publish_errors"] = get(group, "fanout", "publish_errors")
    for stat in ("p50", "p99", "max"):
        figures["%s_delivery_%s_ms" % (group, stat)] = get(group, "fanout", "delivery_ms", stat)
    figures[group + "_all_have_it_p99_ms"] = get(group, "fanout", "all_have_it_ms", "p99")

groups = {
    "cluster3": ["node1", "node2", "node3"],
    "cluster1": ["node1"],
    "single": ["single"],
    "caddy": ["caddy"],
}
for group, targets in groups.items():
    if group not in raw:
        continue
    rps = [get(group, "wrk_%s_rps" % t) for t in targets]
    requests = [get(group, "wrk_%s_requests" % t) for t in targets]
    if None in rps or None in requests:
        continue
    total = sum(requests)
    figures[group + "_rps"] = sum(rps)
    figures[group + "_requests"] = total
    figures[group + "_errors"] = sum(get(group, "wrk_%s_errors" % t) or 0 for t in targets)
    cpu = {k[len("cpu_s_"):]: v for k, v in raw[group].items() if k.startswith("cpu_s_")}
    instances = sum(v for k, v in cpu.items() if k.startswith("node") or k == "single")
    figures[group + "_instances_cpu_per_1000"] = instances / total * 1000 if total else None
    if "redis" in cpu:
        figures[group + "_redis_cpu_per_1000"] = cpu["redis"] / total * 1000 if total else None
    if "caddy" in cpu:
        figures[group + "_caddy_cpu_per_1000"] = cpu["caddy"] / total * 1000 if total else None
if figures.get("cluster3_rps") and figures.get("single_rps"):
    figures["cluster3_vs_single"] = figures["cluster3_rps"] / figures["single_rps"]
for group in ("cluster3", "final"):
    figures[group + "_peers_agree"] = get(group, "peers", "same_bytes")
    figures[group + "_peers_same_rows"] = get(group, "peers", "same_rows")
    figures[group + "_peers_agree_after_ms"] = get(group, "peers", "after_ms")
    figures[group + "_peers_rows"] = get(group, "peers", "rows")
for m in ("dropped_total", "errors_total", "outages_total", "resyncs_total"):
    figures["cluster_" + m] = sum(get(n, "cluster_" + m) or 0 for n in ("node1", "node2", "node3"))
figures["crashed"] = sorted(g for g in raw if get(g, "crashed"))


def below(limit):
    return lambda v: v is not None and v < limit


def no_more_than(limit):
    return lambda v: v is not None and v <= limit


def equals(value):
    return lambda v: v == value


def all_connected(group):
    return lambda v: v is not None and v == figures.get(group + "_requested")


rows = [
    ("cross-instance: publish on 1, subscribers on 2 and 3", None, None, None, None),
    ("  subscribers connected", "cross_connected", "%.0f", "all", all_connected("cross")),
    ("  delivery p50 ms", "cross_delivery_p50_ms", "%.2f", "info", None),
    ("  delivery p99 ms", "cross_delivery_p99_ms", "%.2f", "<= 50", no_more_than(50)),
    ("  delivery max ms", "cross_delivery_max_ms", "%.2f", "info", None),
    ("  all-have-it p99 ms (per publish)", "cross_all_have_it_p99_ms", "%.2f", "info", None),
    ("  lost events", "cross_lost", "%.0f", "0", equals(0)),
    ("same instance with Redis (publish and subscribers on 1)", None, None, None, None),
    ("  delivery p50 ms", "same_delivery_p50_ms", "%.2f", "info", None),
    ("  delivery p99 ms", "same_delivery_p99_ms", "%.2f", "info", None),
    ("  delivery max ms", "same_delivery_max_ms", "%.2f", "info", None),
    ("  lost events", "same_lost", "%.0f", "0", equals(0)),
    ("one instance without Redis", None, None, None, None),
    ("  delivery p50 ms", "single_delivery_p50_ms", "%.2f", "info", None),
    ("  delivery p99 ms", "single_delivery_p99_ms", "%.2f", "info", None),
    ("  delivery max ms", "single_delivery_max_ms", "%.2f", "info", None),
    ("  lost events", "single_lost", "%.0f", "0", equals(0)),
]
if "caddy_lost" in figures:
    rows += [
        ("through Caddy (round-robin over the 3)", None, None, None, None),
        ("  delivery p50 ms", "caddy_delivery_p50_ms", "%.2f", "info", None),
        ("  delivery p99 ms", "caddy_delivery_p99_ms", "%.2f", "info", None),
        ("  delivery max ms", "caddy_delivery_max_ms", "%.2f", "info", None),
        ("  lost events", "caddy_lost", "%.0f", "0", equals(0)),
    ]
rows += [
    ("publish throughput (wrk, publish.lua: 1,000 peers)", None, None, None, None),
    ("  3 instances, 3 wrk -t1 -c16 at once: req/s", "cluster3_rps", "%.0f", "info", None),
    ("    instances CPU-s per 1,000 publishes", "cluster3_instances_cpu_per_1000", "%.3f",
     "info", None),
    ("    Redis CPU-s per 1,000 publishes", "cluster3_redis_cpu_per_1000", "%.3f", "info", None),
    ("    errors", "cluster3_errors", "%.0f", "0", equals(0)),
    ("    /peers.json of the 3: same bytes", "cluster3_peers_agree", "%s", "yes", equals(True)),
    ("    ... same rows, in any order", "cluster3_peers_same_rows", "%s", "yes", equals(True)),
    ("    ... ms until same bytes (or gave up)", "cluster3_peers_agree_after_ms", "%.0f", "info",
     None),
    ("  instance 1 of the 3, 1 wrk -t2 -c32: req/s", "cluster1_rps", "%.0f", "info", None),
    ("    instances CPU-s per 1,000 publishes", "cluster1_instances_cpu_per_1000", "%.3f",
     "info", None),
    ("    Redis CPU-s per 1,000 publishes", "cluster1_redis_cpu_per_1000", "%.3f", "info", None),
    ("  one instance without Redis, wrk -t2 -c32: req/s", "single_rps", "%.0f", "info", None),
    ("    instance CPU-s per 1,000 publishes", "single_instances_cpu_per_1000", "%.3f", "info",
     None),
    ("  3 instances / one without Redis", "cluster3_vs_single", "%.2f", "info", None),
]
if "caddy_rps" in figures:
    rows += [
        ("  through Caddy to the 3, wrk -t2 -c32: req/s", "caddy_rps", "%.0f", "info", None),
        ("    instances CPU-s per 1,000 publishes", "caddy_instances_cpu_per_1000", "%.3f",
         "info", None),
        ("    Redis CPU-s per 1,000 publishes", "caddy_redis_cpu_per_1000", "%.3f", "info", None),
        ("    Caddy CPU-s per 1,000 publishes", "caddy_caddy_cpu_per_1000", "%.3f", "info", None),
        ("    errors", "caddy_errors", "%.0f", "0", equals(0)),
    ]
rows += [
    ("/peers.json of the 3 at the end: same bytes", "final_peers_agree", "%s", "yes",
     equals(True)),
    ("  same rows, in any order", "final_peers_same_rows", "%s", "yes", equals(True)),
    ("  rows", "final_peers_rows", "%.0f", "info", None),
    ("cluster: dropped + error replies (metrics)", "cluster_errors_total", "%.0f", "0",
     equals(0)),
    ("cluster: Redis outages (metrics)", "cluster_outages_total", "%.0f", "0", equals(0)),
    ("cluster: snapshots loaded (metrics)", "cluster_resyncs_total", "%.0f", "info", None),
]


def show(fmt, value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return fmt % value


figures["cluster_errors_total"] += figures.pop("cluster_dropped_total")
table = [("figure", "value", "goal", "met")]
goals = []
for label, key, fmt, goal, test in rows:
    if key is None:
        table.append((label, "", "", ""))
        continue
    value = figures.get(key)
    met = "-" if test is None else ("yes" if test(value) else "no")
    if test is not None:
        goals.append({"figure": label.strip(), "key": key, "goal": goal, "met": met == "yes"})
    table.append((label, show(fmt, value), goal, met))

widths = [max(len(row[i]) for row in table) for i in range(4)]
for n, row in enumerate(table):
    print("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
    if n == 0:
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")

for name in figures["crashed"]:
    print("note: %s exited during the run" % name)
for key, value in sorted(figures.items()):
    if key.endswith(("_errors", "_duplicates")) and value:
        print("note: %s = %s" % (key, value))
met = sum(g["met"] for g in goals)
print("goals met: %d of %d" % (met, len(goals)))
print("delivery: %s subscribers, %s publishes %s ms apart; throughput: %s s per run" % (
    get("all", "subscribers"), get("all", "publishes"), get("all", "interval_ms"),
    get("all", "wrk_seconds")))
print("machine: %s; redis %s; load average before %s, after %s; %s s" % (
    get("all", "machine"), get("all", "redis"), get("all", "load_before"),
    get("all", "load_after"), get("all", "seconds")))
if get("all", "quick") == 1:
    print("GOOP_BENCH_QUICK=1: reduced loads, the figures are not comparable with the goal")

write_report(sys.argv[2], raw, figures=figures, goals=goals)
PYTHON
