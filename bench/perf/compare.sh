#!/usr/bin/env bash
# Benchmark (not a test): topobench against OSU Micro-Benchmarks, interleaved in one run,
# for every MPI test: latency, bw, bibw (2 ranks: OSU's point-to-point tests take exactly
# two), all_reduce, all_gather, reduce_scatter, broadcast, alltoall (2 and 4 ranks), at
# every power of two from 8 B to 16 MiB (topobench's size; see docs/perf.md for how OSU's
# sizes map). Both tools run the same iteration and warm-up counts (OSU's defaults).
# Prints, per test and size, the ratio topobench/OSU of the medians over repetitions
# (bench/perf/compare_table.py, which also prints OSU's own spread between repetitions:
# the machine's noise floor at that cell):
# times for latency and collectives (OSU's "Avg Latency" vs topobench's time_us.mean),
# bandwidth for bw and bibw; target within 5% (point-to-point) and 10% (collectives).
#
# OSU is not part of topobench: build it yourself and point the script at it.
# Usage: OSU_DIR=/path/to/osu bash bench/perf/compare.sh [-r REPS] [-k] [-t TESTS] [-n NPS]
#        [-d DIV] [path/to/topobench]
#   OSU_DIR   a directory holding osu_latency, osu_bw, osu_bibw, osu_allreduce,
#             osu_allgather, osu_reduce_scatter, osu_bcast and osu_alltoall (searched
#             recursively: an OSU install prefix or build tree will do); OSU 7.x (needs
#             -m MIN:MAX on the point-to-point tests and -T for the datatype)
#   -r REPS   repetitions (default 4: even, so each tool goes first equally often)
#   -k        keep the work directory (raw.tsv: compare_table.py RAW re-prints the table)
#   -t TESTS  comma-separated subset of the tests above (default: all)
#   -n NPS    rank counts for the collectives (default "2,4")
#   -d DIV    divide OSU's iteration and warm-up counts by DIV for both tools (default 1;
#             a busy or slow machine: the comparison stays like for like)
#   MPIRUN_ARGS="--mca btl tcp,self"   extra mpirun options for every run, both tools
# Exit 0 whatever the ratios or failed runs (reported); 4 when a tool is missing.
# docs/perf.md explains the method and the results on the development machine.
set -uo pipefail

reps=4
keep=0
tests_sel="latency,bw,bibw,all_reduce,all_gather,reduce_scatter,broadcast,alltoall"
nps_sel="2,4"
div=1
while getopts "r:kt:n:d:h" opt; do
    case $opt in
        r) reps=$OPTARG ;;
        k) keep=1 ;;
        t) tests_sel=$OPTARG ;;
        n) nps_sel=$OPTARG ;;
        d) div=$OPTARG ;;
        h) sed -n '2,25p' "$0"; exit 0 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
here=$(cd "$(dirname "$0")" && pwd)
tb=${1:-$here/../../build/bench/topobench}

declare -A osu_name=([latency]=osu_latency [bw]=osu_bw [bibw]=osu_bibw
    [all_reduce]=osu_allreduce [all_gather]=osu_allgather
    [reduce_scatter]=osu_reduce_scatter [broadcast]=osu_bcast [alltoall]=osu_alltoall)
declare -A osu_bin
missing=()
for t in mpirun python3; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ -x "$tb" ] || missing+=("topobench ($tb)")
IFS=, read -ra tests <<<"$tests_sel"
IFS=, read -ra nps <<<"$nps_sel"
if [ -z "${OSU_DIR:-}" ] || [ ! -d "${OSU_DIR:-}" ]; then
    missing+=("OSU_DIR (a directory with OSU Micro-Benchmarks binaries)")
else
    for t in "${tests[@]}"; do
        [ -n "${osu_name[$t]:-}" ] || { echo "compare.sh: unknown test '$t'" >&2; exit 2; }
        b=$(find -L "$OSU_DIR" -type f -name "${osu_name[$t]}" -perm -u+x 2>/dev/null | head -1)
        if [ -n "$b" ]; then osu_bin[$t]=$b; else missing+=("${osu_name[$t]} under $OSU_DIR"); fi
    done
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "compare.sh: missing: ${missing[*]}" >&2
    echo "  (build OSU Micro-Benchmarks 7.x with mpicc outside this repository and set OSU_DIR)" >&2
    exit 4
fi

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d /tmp/topobench-compare.XXXXXX)
if [ "$keep" = 1 ]; then trap 'echo "raw results kept in $work"' EXIT; else
    trap 'rm -rf "$work"' EXIT; fi
raw="$work/raw.tsv" # test <tab> np <tab> size <tab> tool <tab> repetition <tab> value
: >"$raw"
cores=$(nproc)
read -ra extra <<<"${MPIRUN_ARGS:-}"

source "$here/lib.sh"

# OSU's iteration counts (osu_util.h): up to 8 KiB ("small") and above; the same counts
# are given to topobench with -n/-w, so both tools time alike many iterations.
#   kind   small: iterations warm-up   large: iterations warm-up
#   lat           10000       100             1000       10
#   bw              100        10               20        2     (windows of 64 messages)
#   coll           1000       100              100       10
kind_of() { case $1 in latency) echo lat ;; bw | bibw) echo bw ;; *) echo coll ;; esac; }
iters_of() { # iters_of KIND small|large -> "ITERS WARMUP", divided by -d (at least 1)
    local c
    case $1-$2 in
        lat-small) c="10000 100" ;; lat-large) c="1000 10" ;;
        bw-small) c="100 10" ;; bw-large) c="20 2" ;;
        coll-small) c="1000 100" ;; coll-large) c="100 10" ;;
    esac
    set -- $c
    echo "$(((${1} + div - 1) / div)) $(((${2} + div - 1) / div))"
}
# OSU counts reduce_scatter's size as the whole buffer (n blocks); topobench counts one
# rank's block (REFERENCE.md §1). OSU's sizes are topobench's times this factor.
osu_factor() { [ "$1" = reduce_scatter ] && echo "$2" || echo 1; }

# topobench at sizes LO..HI of one iteration class; records time_us.mean (latency,
# collectives: out-of-place rows, float) or bw_gbps (bw, bibw).
tb_one() { # tb_one REP NP TEST CLASS LO HI
    local rep=$1 np=$2 t=$3 cls=$4 lo=$5 hi=$6 it wu
    read -r it wu <<<"$(iters_of "$(kind_of "$t")" "$cls")"
    local out="$work/tb-$t-np$np-$cls-$rep"
    run_np "$np" "$out.log" "$tb" run -t "$t" -b "$lo" -e "$hi" -f 2 -n "$it" -w "$wu" -c 0 \
        -q --no-progress -o "$out" || { note_fail "topobench $t np=$np $cls" "$out.log"; return; }
    python3 - "$out/results.json" "$rep" "$np" "$t" >>"$raw" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); rep, np, name = sys.argv[2], sys.argv[3], sys.argv[4]
for t in doc["tests"]:
    if t["name"] != name or t["status"] != "ok":
        continue
    if t["kind"] == "collective" and t.get("dtype") != "float":
        continue
    if t["kind"] == "p2p" and t.get("placement") != "intra-node":
        continue
    for r in t["results"]:
        if r.get("in_place"):
            continue
        v = r["bw_gbps"] if "bw_gbps" in r else r["time_us"]["mean"]
        print(f"{name}\t{np}\t{r['size']}\ttopobench\t{rep}\t{v}")
PY
}

# OSU at the same sizes (times its factor); OSU prints "size value [...]" per size: us, or
# MB/s (1e6 B/s) for bw and bibw, converted to GB/s.
osu_one() { # osu_one REP NP TEST CLASS LO HI
    local rep=$1 np=$2 t=$3 cls=$4 lo=$5 hi=$6 it wu
    read -r it wu <<<"$(iters_of "$(kind_of "$t")" "$cls")"
    local f
    f=$(osu_factor "$t" "$np")
    local out="$work/osu-$t-np$np-$cls-$rep" args=(-m "$((lo * f)):$((hi * f))" -i "$it" -x "$wu")
    case $t in all_reduce | reduce_scatter) args+=(-T mpi_float) ;; esac
    case $t in latency | bw | bibw) ;; *) args+=(-M $((1 << 30))) ;; esac
    run_np "$np" "$out.log" "${osu_bin[$t]}" "${args[@]}" ||
        { note_fail "${osu_name[$t]} np=$np $cls" "$out.log"; return; }
    awk -v rep="$rep" -v np="$np" -v t="$t" -v f="$f" '
        $1 ~ /^[0-9]+$/ && NF >= 2 {
            v = $2; if (t == "bw" || t == "bibw") v = v / 1000
            printf "%s\t%s\t%d\tosu\t%s\t%s\n", t, np, $1 / f, rep, v
        }' "$out.log" >>"$raw"
}

# One test at one rank count, both iteration classes, the tools in the given order.
pair_run() { # pair_run REP NP TEST FIRST
    local rep=$1 np=$2 t=$3 first=$4 cls lo hi
    for spec in small:8:8192 large:16384:16777216; do
        IFS=: read -r cls lo hi <<<"$spec"
        if [ "$first" = tb ]; then
            tb_one "$rep" "$np" "$t" "$cls" "$lo" "$hi"; osu_one "$rep" "$np" "$t" "$cls" "$lo" "$hi"
        else
            osu_one "$rep" "$np" "$t" "$cls" "$lo" "$hi"; tb_one "$rep" "$np" "$t" "$cls" "$lo" "$hi"
        fi
    done
}

echo "compare.sh: $reps repetitions, OSU's iteration counts / $div, $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
busy=$(busy_pct)
echo "  CPU busy before start: $busy% of the machine"
shared=0
if [ "$busy" -ge 25 ]; then
    # Ranks that spin on a core another process wants burn whole time slices while their
    # peer waits for the CPU: both tools run unbound and yielding instead.
    shared=1
    echo "  WARNING: other processes use the CPU; expect preemption to inflate the means (see docs/perf.md);"
    echo "  both tools run unbound and yielding (--bind-to none --mca mpi_yield_when_idle 1)"
elif [ "$busy" -ge 10 ]; then
    echo "  WARNING: other processes use the CPU; expect preemption to inflate the means (see docs/perf.md)"
fi
echo "  topobench: $tb ($("$tb" version 2>/dev/null | head -1))"
echo "  OSU: $OSU_DIR"
echo "  mpirun: $(mpirun --version 2>/dev/null | head -1)"
[ ${#extra[@]} -gt 0 ] && echo "  extra mpirun options: ${extra[*]}"
start=$(date +%s)
for rep in $(seq 1 "$reps"); do
    echo "repetition $rep/$reps ($(($(date +%s) - start)) s)" >&2
    # Alternate which tool goes first, so a slow drift of the machine favours neither.
    first=tb
    [ $((rep % 2)) = 0 ] && first=osu
    for t in "${tests[@]}"; do
        if [ "$(kind_of "$t")" = coll ]; then
            for np in "${nps[@]}"; do pair_run "$rep" "$np" "$t" "$first"; done
        else
            pair_run "$rep" 2 "$t" "$first"
        fi
    done
done
echo "  wall time $(($(date +%s) - start)) s, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  OSU version: $(grep -rhom1 'v[0-9][0-9.]*$' "$work"/osu-*.log 2>/dev/null | head -1)"

python3 "$here/compare_table.py" "$raw" "$cores"
[ "$failed" = 0 ] || echo "some runs failed; their measurements are missing above" >&2
exit 0
