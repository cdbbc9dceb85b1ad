# Helpers shared by run-benchmarks.sh and run-cluster-benchmark.sh (sourced, not run).
# They expect ROOT (the checkout) and BUILD (the build directory) to be set, and RESULTS (the
# raw measurements file) before record() is used.

# require_tools TOOL…: stop with one line if a tool is missing.
require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "${0##*/}: $tool is missing" >&2; exit 1; }
    done
}

# build_bench_tools: our server (unless GOOP_BENCH_SERVER names one to measure) and
# goop-ssebench, in Release, into BUILD.
build_bench_tools() {
    log "building goop-rendezvous and goop-ssebench (Release, $BUILD)${GOOP_BENCH_SERVER:+; measuring $GOOP_BENCH_SERVER}"
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGOOP_BUILD_MONITOR=OFF \
        -DGOOP_BUILD_TESTS=ON >"$BUILD.cmake.log" 2>&1 ||
        { cat "$BUILD.cmake.log" >&2; exit 1; }
    if [[ -n ${GOOP_BENCH_SERVER:-} ]]; then
        cmake --build "$BUILD" --target goop-ssebench >&2
    else
        cmake --build "$BUILD" --target goop-rendezvous goop-ssebench >&2
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
