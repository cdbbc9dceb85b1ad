#!/usr/bin/env bash
# What event IDs and resuming cost and give (issue 17), on 127.0.0.1 only:
#   - fan-out with IDs against the same server without them: 10,000 SSE subscribers, 20
#     publishes 200 ms apart, the time until every subscriber has an event (p50 and p99 over
#     the publishes); runs alternate between the two binaries, GOOP_RESUME_ROUNDS (3) of each,
#     and the medians are compared. The binary without IDs is GOOP_BENCH_BASELINE (e.g. built
#     from the commit before IDs, 0092c7f); without it this part is skipped;
#   - replay: 10,000 events published, then 1,000 subscribers that missed them reconnect at
#     once with Last-Event-ID; the time until every one has them all, and the server's RSS.
#
#   GOOP_BENCH_BASELINE=/path/to/goop-rendezvous tests/bench/run-resume-benchmark.sh
#
# Prints one line per run and a summary; about three minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${GOOP_BENCH_BUILD_DIR:-$ROOT/build-bench}
WORK=$BUILD/resume-bench-run
RESULTS=$WORK/results.tsv
OURS=${GOOP_BENCH_SERVER:-$BUILD/server/goop-rendezvous}
SSEBENCH=$BUILD/tests/bench/goop-ssebench
ROUNDS=${GOOP_RESUME_ROUNDS:-3}
SERVER_PID=

log() { echo "# $*" >&2; }
# shellcheck source=tests/bench/bench-common.sh
source "$ROOT/tests/bench/bench-common.sh"
trap 'stop_server' EXIT
build_bench_tools
fresh_work_dir

json() { python3 -c "import json,sys; print(json.loads(sys.argv[1])$2)" "$1"; }

if [[ -n ${GOOP_BENCH_BASELINE:-} ]]; then
    for round in $(seq "$ROUNDS"); do
        for which in baseline ours; do
            binary=$OURS
            [[ $which == baseline ]] && binary=$GOOP_BENCH_BASELINE
            OURS=$binary start_server ours "fanout-$which-$round"
            out=$("$SSEBENCH" fanout --subscribers 10000 --publishes 20 --interval-ms 200 --port "$PORT")
            stop_server
            record "$which" "fanout_$round" "$out"
            log "$which round $round: all-have-it p50 $(json "$out" "['all_have_it_ms']['p50']") ms, p99 $(json "$out" "['all_have_it_ms']['p99']") ms, lost $(json "$out" "['lost']")"
        done
    done
fi

start_server ours replay
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
out=$("$SSEBENCH" resume --subscribers 1000 --missed 10000 --port "$PORT")
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
stop_server
record ours replay "$out"
log "replay of 10,000 events to 1,000 reconnecting subscribers: $out"
log "server RSS before the replay ${rss_before} kB, after ${rss_after} kB"

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [line.rstrip('\n').split('\t') for line in open(sys.argv[1])]
fanout = {}
for which, key, value in rows:
    if key.startswith('fanout_'):
        data = json.loads(value)
        fanout.setdefault(which, []).append(data['all_have_it_ms'])
if fanout.get('baseline') and fanout.get('ours'):
    for p in ('p50', 'p99'):
        base = statistics.median(r[p] for r in fanout['baseline'])
        ours = statistics.median(r[p] for r in fanout['ours'])
        print(f"fan-out 10k all-have-it {p}: without IDs {base:.1f} ms, with IDs {ours:.1f} ms, "
              f"ratio {ours / base:.3f} (goal <= 1.05)")
PY
