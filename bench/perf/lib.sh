# Shared by the comparison scripts (compare.sh, compare_netpipe.sh): the placement both
# tools get, failure notes and a measure of outside CPU use. Sourced; expects `cores`,
# the `extra` array (MPIRUN_ARGS) and optionally `shared` (1: the machine is busy) set.

# mpirun with the same placement for both tools: a core per rank while there are cores
# enough (and the machine is not shared), otherwise unbound and yielding (oversubscribed
# ranks must not spin).
run_np() { # run_np NP LOG CMD...
    local np=$1 log=$2
    shift 2
    local place=(--bind-to core)
    if [ "$np" -gt "$cores" ] || [ "${shared:-0}" = 1 ]; then
        place=(--bind-to none --mca mpi_yield_when_idle 1)
    fi
    mpirun --oversubscribe -np "$np" "${place[@]}" "${extra[@]}" "$@" >"$log" 2>&1
}

failed=0
note_fail() {
    failed=1
    echo "  FAILED: $1 (log: $2)" >&2
    tail -5 "$2" >&2
}

# CPU time others use (percent of the machine over 2 s): ranks that share a core with
# another busy process are preempted for whole time slices, which inflates means.
busy_pct() {
    local a b
    read -ra a < <(head -1 /proc/stat)
    sleep 2
    read -ra b < <(head -1 /proc/stat)
    local tot=0 idle=$((b[4] + b[5] - a[4] - a[5])) i
    for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
    echo $(((tot - idle) * 100 / (tot > 0 ? tot : 1)))
}

# Shared by the document benchmarks (scale.sh, analyze_scale.sh).
# perf_prepare SCRIPT BUILD TARGET...: needs /usr/bin/time (exit 77 without it), builds the
# targets, sets `timer` and `work` (a directory removed on exit).
perf_prepare() {
    timer=/usr/bin/time
    [ -x $timer ] || { echo "$1 needs /usr/bin/time (Debian package 'time')" >&2; exit 77; }
    local build=$2
    shift 2
    cmake --build "$build" --target "$@" -j2 >/dev/null
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
}
perf_exe() { find "$1" -type f -name "$2" -perm -u+x | head -1; } # perf_exe BUILD NAME
# "wall user sys maxrss_kib" of a /usr/bin/time -f "%e %U %S %M" file.
cpu_of() { awk '{printf "%.2f", $2 + $3}' "$1"; }
wall_of() { awk '{printf "%.2f", $1}' "$1"; }
rss_of() { awk '{print $4}' "$1"; }
verdict() { # value goal: "ok" when value < goal
  awk -v v="$1" -v g="$2" 'BEGIN { print (v + 0 < g + 0) ? "ok" : "ABOVE GOAL" }'
}
