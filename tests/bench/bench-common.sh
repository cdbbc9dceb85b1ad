# Helpers shared by run-benchmarks.sh and run-cluster-benchmark.sh (sourced, not run).
# They expect RESULTS (the raw measurements file) to be set.

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
