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
