# Helpers shared by the benchmark scripts (sourced, not run). They expect ROOT (the checkout)
# and BUILD (the build directory) to be set, and RESULTS (the raw measurements file) before
# record() is used. The one-server helpers (start_server … stop_hold) also expect OURS and
# REFERENCE (the two binaries), WORK, SSEBENCH, SECONDS_PER_RUN and CLK_TCK.

# require_tools TOOL…: stop with one line if a tool is missing.
require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "${0##*/}: $tool is missing" >&2; exit 1; }
    done
}

# build_bench_tools [TARGET…]: our server (unless GOOP_BENCH_SERVER names one to measure),
# goop-ssebench and the other TARGETs (e.g. goop-meshbench), in Release, into BUILD.
build_bench_tools() {
    log "building goop-rendezvous and goop-ssebench${*:+ (and $*)} (Release, $BUILD)${GOOP_BENCH_SERVER:+; measuring $GOOP_BENCH_SERVER}"
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGOOP_BUILD_MONITOR=OFF \
        -DGOOP_BUILD_TESTS=ON >"$BUILD.cmake.log" 2>&1 ||
        { cat "$BUILD.cmake.log" >&2; exit 1; }
    if [[ -n ${GOOP_BENCH_SERVER:-} ]]; then
        cmake --build "$BUILD" --target goop-ssebench "$@" >&2
    else
        cmake --build "$BUILD" --target goop-rendezvous goop-ssebench "$@" >&2
    fi
}

# fresh_work_dir: an empty WORK (with logs/) and RESULTS for this run.
fresh_work_dir() {
    rm -rf "$WORK"
    mkdir -p "$WORK/logs"
    : >"$RESULTS"
}

# Where the report's Python finds benchresults.py.
export GOOP_BENCH_DIR=$ROOT/tests/bench

# record GROUP KEY VALUE: one raw measurement; the report at the end turns them into figures.
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port [TAKEN…]: a free loopback port, not one of TAKEN (handed out earlier in the run: a
# process may not listen on it yet).
pick_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 20000))
        if port_is_free "$port" && [[ " $* " != *" $port "* ]]; then
            echo "$port"
            return
        fi
    done
    echo "${0##*/}: no free port" >&2
    exit 1
}

# record_run_facts STARTED MACHINE: when and where the run was, for the JSON.
record_run_facts() {
    record all quick "${GOOP_BENCH_QUICK:-0}"
    record all seconds "$(($(date +%s) - $1))"
    record all machine "\"$2\""
    record all load_after "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
    record all commit "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
}

# --- one server at a time --------------------------------------------------------------------

# start_server ours|reference LABEL: a fresh process on a fresh port (sets PORT, SERVER_PID).
# Both log to a file at their defaults: the reference logs every publish, ours (info) every
# registration, offline and expiry but not the heartbeat updates (those are debug).
OURS_UNLIMITED=(--peer-publish-rate 1e9 --peer-publish-burst 1e9 --address-publish-rate 1e9
                --address-publish-burst 1e9 --connection-rate 1e9 --connection-burst 1e9
                --max-streams-per-address 0)

start_server() {
    local which=$1 label=$2
    PORT=$(pick_port)
    local logfile=$WORK/logs/$which-$label.log
    if [[ $which == ours ]]; then
        # The load comes from one address at rates no peer sends: the per-client limits are
        # set out of reach, not off, so that their cost is in the figures.
        "$OURS" -addr "127.0.0.1:$PORT" "${OURS_UNLIMITED[@]}" 2>"$logfile" &
    else
        "$REFERENCE" -addr "127.0.0.1:$PORT" 2>"$logfile" &
    fi
    SERVER_PID=$!
    # Up to 20 s: just after a figure that held 10,000 connections, the machine is still busy
    # closing them (5 s once ran out in session 16).
    for _ in $(seq 400); do
        if ! port_is_free "$PORT"; then
            return
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "${0##*/}: $which did not start (log: $logfile)" >&2
    exit 1
}

# Stops the server; a crash during the figure (the process already gone) is recorded.
stop_server() {
    [[ -z $SERVER_PID ]] && return
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "the server (pid $SERVER_PID) had already exited"
        record "${CURRENT:-?}" crashed 1
    else
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# utime + stime of the server in clock ticks (fields 14 and 15 of /proc/PID/stat; the text
# after the last ')' starts at field 3).
cpu_ticks() { sed 's/.*) //' "/proc/$SERVER_PID/stat" | awk '{print $12 + $13}'; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }

# wrk_run WHICH NAME URL [wrk args…]: req/s, requests per second of server CPU time, errors.
wrk_run() {
    local which=$1 name=$2 url=$3
    shift 3
    local before after out
    before=$(cpu_ticks)
    out=$(wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" "$@" "$url")
    after=$(cpu_ticks)
    echo "$out" >"$WORK/logs/$which-wrk-$name.txt"
    local rps requests errors socket_errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    errors=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
    socket_errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
    record "$which" "${name}_rps" "$rps"
    record "$which" "${name}_requests" "$requests"
    record "$which" "${name}_cpu_s" "$(awk -v t=$((after - before)) -v hz="$CLK_TCK" \
        'BEGIN {print t / hz}')"
    record "$which" "${name}_errors" "$((${errors:-0} + ${socket_errors:-0}))"
    log "$which $name: $rps req/s, $requests requests, cpu $((after - before))/$CLK_TCK s"
}

# ssebench_run WHICH KEY ARGS…: one JSON line from goop-ssebench, recorded whole.
ssebench_run() {
    local which=$1 key=$2
    shift 2
    local out
    out=$("$SSEBENCH" "$@" --port "$PORT")
    record "$which" "$key" "$out"
    log "$which $key: $out"
}

# start_hold WHICH ARGS…: goop-ssebench hold in the background (ARGS: --subscribers N and any
# others), once all its subscribers are connected (sets HOLD_PID; its JSON goes to
# WORK/hold-WHICH.json).
start_hold() {
    local which=$1
    shift
    local ready=$WORK/hold-$which.ready
    rm -f "$ready"
    "$SSEBENCH" hold --port "$PORT" --ready-file "$ready" "$@" >"$WORK/hold-$which.json" &
    HOLD_PID=$!
    for _ in $(seq 1200); do
        [[ -e $ready ]] && break
        kill -0 "$HOLD_PID" 2>/dev/null || break
        sleep 0.1
    done
    [[ -e $ready ]] || { echo "${0##*/}: subscribers never got ready" >&2; exit 1; }
    sleep 1 # let the server finish the last handshakes before reading its memory
}

# stop_hold [WHICH]: ends the held subscribers; with WHICH, records their closing JSON line.
stop_hold() {
    [[ -z ${HOLD_PID:-} ]] && return
    kill -TERM "$HOLD_PID" 2>/dev/null || true
    wait "$HOLD_PID" || true
    HOLD_PID=
    [[ -n ${1:-} ]] && record "$1" idle_hold_done "$(tail -1 "$WORK/hold-$1.json")"
    return 0
}
