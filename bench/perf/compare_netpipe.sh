#!/usr/bin/env bash
# Benchmark (not a test): topobench against NetPIPE and two naive reference programs,
# interleaved in one run (the OSU comparison of every test is compare.sh).
#   point-to-point: NetPIPE (Debian's netpipe-openmpi, NPopenmpi) at 8 B, 1 MiB, 4 MiB
#     vs topobench run --tests latency,bw -b 8 -e 4M
#   all_reduce: ref_allreduce.c (OSU's method, built here with mpicc) at 1 MiB and 16 MiB
#     on 2 and 4 ranks vs topobench run --tests all_reduce
# Every repetition runs each tool once per measurement, alternating which goes first;
# the table gives the medians over repetitions, topobench/peer, the target and
# PASS/MISS. ref_pingpong.c (naive, two buffer modes) explains NetPIPE differences.
# Method and reading: docs/perf.md.
# Usage: bash bench/perf/compare_netpipe.sh [-r REPS] [-k] [path/to/topobench]
#   -r REPS  repetitions (default 5)     -k  keep the work directory (raw results)
#   MPIRUN_ARGS="--mca btl tcp,self"     extra mpirun options for every run, both tools
# Exit 0 whatever the ratios or failed runs (reported); 4 when a tool is missing.
set -uo pipefail

reps=5
keep=0
while getopts "r:kh" opt; do
    case $opt in
        r) reps=$OPTARG ;;
        k) keep=1 ;;
        h) sed -n '2,15p' "$0"; exit 0 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
here=$(cd "$(dirname "$0")" && pwd)
tb=${1:-$here/../../build/bench/topobench}

missing=()
for t in mpirun mpicc NPopenmpi python3; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ -x "$tb" ] || missing+=("topobench ($tb)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "compare.sh: missing: ${missing[*]}" >&2
    echo "  (apt-get install openmpi-bin libopenmpi-dev netpipe-openmpi python3; build topobench)" >&2
    exit 4
fi

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d /tmp/topobench-compare.XXXXXX)
if [ "$keep" = 1 ]; then trap 'echo "raw results kept in $work"' EXIT; else
    trap 'rm -rf "$work"' EXIT; fi
raw="$work/raw.tsv" # metric <tab> tool <tab> repetition <tab> value
: >"$raw"
cores=$(nproc)
read -ra extra <<<"${MPIRUN_ARGS:-}"

if ! mpicc -O2 -o "$work/ref_allreduce" "$here/ref_allreduce.c" 2>"$work/mpicc.log" ||
    ! mpicc -O2 -o "$work/ref_pingpong" "$here/ref_pingpong.c" 2>>"$work/mpicc.log"; then
    echo "compare.sh: cannot build the reference programs:" >&2
    cat "$work/mpicc.log" >&2
    exit 4
fi

source "$here/lib.sh"

# topobench point-to-point: 8-byte latency, ping-pong bandwidth from the latency test
# (size / half round trip, what NetPIPE reports), windowed bandwidth from bw.
tb_p2p() {
    local rep=$1 out="$work/tb-p2p-$1"
    run_np 2 "$out.log" "$tb" run --tests latency,bw -b 8 -e 4M -q --no-progress -o "$out" ||
        { note_fail "topobench latency,bw" "$out.log"; return; }
    python3 - "$out/results.json" "$rep" >>"$raw" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); rep = sys.argv[2]
tests = {t["name"]: t for t in doc["tests"] if t["status"] == "ok"}
def res(name, size):
    return [r for r in tests[name]["results"] if r["size"] == size and not r.get("in_place")][0]
# The headline is the mean (OSU's); "~median": the same from the median, to show what
# preemption does to means.
lat = res("latency", 8)["time_us"]
print(f"lat_8\ttopobench\t{rep}\t{lat['mean']}")
print(f"lat_8~median\ttopobench\t{rep}\t{lat['median']}")
for size, tag in ((1 << 20, "1M"), (4 << 20, "4M")):
    t = res("latency", size)["time_us"]
    print(f"pingpong_{tag}\ttopobench\t{rep}\t{size / (t['mean'] * 1e-6) / 1e9}")
    print(f"pingpong_{tag}~median\ttopobench\t{rep}\t{size / (t['median'] * 1e-6) / 1e9}")
    print(f"stream_{tag}\ttopobench\t{rep}\t{res('bw', size)['bw_gbps']}")
PY
}

# NetPIPE at exactly one size: -l/-u bounds, -p 0 no perturbation sizes around it. Its
# output file has "bytes Mbps seconds" (Mbps in 2^20 bits/s; seconds: the best of its
# trials of the mean one-way time); -s streams one way instead of ping-pong. NetPIPE
# receives into and sends from one buffer; ref_pingpong.c below measures what that costs.
np_one() { # np_one REP SIZE TAG [-s]
    local rep=$1 size=$2 tag=$3 mode=${4:-}
    local out="$work/np-$tag-$rep${mode:+-s}"
    # shellcheck disable=SC2086
    run_np 2 "$out.log" NPopenmpi $mode -l "$size" -u "$size" -p 0 -o "$out.dat" ||
        { note_fail "NPopenmpi $mode $size" "$out.log"; return; }
    # The time column has 10 ns resolution (4% of an 8-byte latency): take the time from
    # the throughput column instead, t = bytes x 8 / (Mbps x 2^20).
    awk -v rep="$rep" -v tag="$tag" -v mode="$mode" -v size="$size" '
        $1 == size && $2 > 0 {
            t = $1 * 8 / ($2 * 1048576)
            if (tag == "8") printf "lat_8\tnetpipe\t%s\t%.6f\n", rep, t * 1e6
            else printf "%s_%s\tnetpipe\t%s\t%.6f\n", (mode == "-s" ? "stream" : "pingpong"),
                tag, rep, $1 / t / 1e9
        }' "$out.dat" >>"$raw"
}
np_p2p() {
    ref_pp "$1"
    np_one "$1" 8 8
    np_one "$1" 1048576 1M
    np_one "$1" 4194304 4M
    np_one "$1" 1048576 1M -s
    np_one "$1" 4194304 4M -s
}

# The naive ping-pong, with a send buffer of its own (OSU's and topobench's way, "~ref2")
# and echoing its one buffer (NetPIPE's way, "~ref1").
ref_pp() {
    local rep=$1 size tag iters nbuf out
    for spec in 8:8:100000 1048576:1M:1000 4194304:4M:300; do
        IFS=: read -r size tag iters <<<"$spec"
        for nbuf in 2 1; do
            out="$work/ref-pp-$tag-$nbuf-$rep"
            run_np 2 "$out.log" "$work/ref_pingpong" "$size" "$iters" $((iters / 10)) "$nbuf" ||
                { note_fail "ref_pingpong $size $nbuf" "$out.log"; continue; }
            awk -v rep="$rep" -v tag="$tag" -v nbuf="$nbuf" -v size="$size" '$1 == size {
                if (tag == "8") printf "lat_8~ref%s\tpeer\t%s\t%s\n", nbuf, rep, $2
                else printf "pingpong_%s~ref%s\tpeer\t%s\t%.6f\n", tag, nbuf, rep, size / $2 / 1e3
            }' "$out.log" >>"$raw"
        done
    done
}

# topobench all_reduce, out-of-place float, mean time (the headline); -f 16 measures 1 MiB and 16 MiB only.
tb_ar() { # tb_ar REP NP
    local rep=$1 np=$2 out="$work/tb-ar$2-$1"
    run_np "$np" "$out.log" "$tb" run --tests all_reduce -b 1M -e 16M -f 16 -q --no-progress \
        -o "$out" || { note_fail "topobench all_reduce np=$np" "$out.log"; return; }
    python3 - "$out/results.json" "$rep" "$np" >>"$raw" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); rep, np = sys.argv[2], sys.argv[3]
t = [t for t in doc["tests"] if t["name"] == "all_reduce" and t["dtype"] == "float"][0]
for r in t["results"]:
    if not r["in_place"] and r["size"] in (1 << 20, 16 << 20):
        m = f"allreduce_{r['size'] >> 20}M_np{np}"
        print(f"{m}\ttopobench\t{rep}\t{r['time_us']['mean']}")
        print(f"{m}~median\ttopobench\t{rep}\t{r['time_us']['median']}")
PY
}

# The reference: OSU's defaults for large messages, 100 timed iterations after 10.
ref_ar() { # ref_ar REP NP
    local rep=$1 np=$2 size out
    for size in 1048576 16777216; do
        out="$work/ref-ar$np-$size-$rep"
        run_np "$np" "$out.log" "$work/ref_allreduce" "$size" 100 10 ||
            { note_fail "ref_allreduce np=$np $size" "$out.log"; continue; }
        awk -v rep="$rep" -v np="$np" -v size="$size" '$1 == size {
            printf "allreduce_%dM_np%s\tpeer\t%s\t%s\n", size / 1048576, np, rep, $2 }' \
            "$out.log" >>"$raw"
    done
}

echo "compare.sh: $reps repetitions, $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
busy=$(busy_pct)
echo "  CPU busy before start: $busy% of the machine"
[ "$busy" -ge 10 ] && echo "  WARNING: other processes use the CPU; expect preemption to inflate the means (see docs/perf.md)"
echo "  topobench: $tb"
echo "  peers: $(command -v NPopenmpi) (NetPIPE); ref_pingpong.c, ref_allreduce.c (built with $(command -v mpicc))"
[ ${#extra[@]} -gt 0 ] && echo "  extra mpirun options: ${extra[*]}"
start=$(date +%s)
for rep in $(seq 1 "$reps"); do
    echo "repetition $rep/$reps ($(($(date +%s) - start)) s)" >&2
    # Alternate the order so slow drift of the machine does not favour one tool.
    if [ $((rep % 2)) = 1 ]; then
        tb_p2p "$rep"; np_p2p "$rep"
        for np in 2 4; do tb_ar "$rep" "$np"; ref_ar "$rep" "$np"; done
    else
        np_p2p "$rep"; tb_p2p "$rep"
        for np in 2 4; do ref_ar "$rep" "$np"; tb_ar "$rep" "$np"; done
    fi
done
echo "  wall time $(($(date +%s) - start)) s, load average now $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$raw" "$cores" <<'PY'
import sys, statistics
from collections import defaultdict
vals = defaultdict(list)
for line in open(sys.argv[1]):
    metric, tool, rep, v = line.split("\t")
    vals[(metric, "topobench" if tool == "topobench" else "peer")].append(float(v))

def pair(metric):
    """A row "X~k" takes topobench's values of X~k or else X, the peer's of X~k or else X."""
    base = metric.split("~")[0]
    tb = vals.get((metric, "topobench")) or vals.get((base, "topobench"), [])
    peer = vals.get((metric, "peer")) or vals.get((base, "peer"), [])
    return tb, peer

OVER = f" ({sys.argv[2]} cores)" if int(sys.argv[2]) < 4 else ""
MEAN = ("~median", "  (topobench median vs the same peer)")
REFS = [("~ref2", "  (vs ref_pingpong.c, own send buffer)"),
        ("~ref1", "  (vs ref_pingpong.c, echoing one buffer)")]
# metric, what, target (None: shown for information), extra rows. topobench's bandwidth
# is OSU's windowed stream, so its like-for-like NetPIPE figure is NetPIPE's stream mode
# (-s): those rows carry the target. NetPIPE's default ping-pong echoes the buffer it
# just received (see ref_pingpong.c), which no MPI application does: shown for
# information, with the naive ping-pong both ways beside it.
sections = [
    ("point-to-point latency (us, half round trip), 2 ranks, peer NetPIPE", [
        ("lat_8", "8 B ping-pong", 0.10, [MEAN] + REFS)]),
    ("point-to-point bandwidth (GB/s = 1e9 B/s), 2 ranks, peer NetPIPE", [
        ("stream_1M", "1 MiB stream (tb: OSU window; NP: -s)", 0.05, []),
        ("stream_4M", "4 MiB stream (tb: OSU window; NP: -s)", 0.05, []),
        ("pingpong_1M", "1 MiB ping-pong (tb: size/latency)", None, [MEAN] + REFS),
        ("pingpong_4M", "4 MiB ping-pong (tb: size/latency)", None, [MEAN] + REFS)]),
    ("all_reduce time (us, out-of-place float sum), peer ref_allreduce.c", [
        ("allreduce_1M_np2", "1 MiB, 2 ranks", 0.10, [MEAN]),
        ("allreduce_16M_np2", "16 MiB, 2 ranks", 0.10, [MEAN]),
        ("allreduce_1M_np4", "1 MiB, 4 ranks" + OVER, 0.10, [MEAN]),
        ("allreduce_16M_np4", "16 MiB, 4 ranks" + OVER, 0.10, [MEAN])]),
]
def fmt(v):
    return f"{v:.4g}" if v is not None else "-"
def rng(v):
    return f"{min(v):.3g}..{max(v):.3g}" if v else "-"
misses = 0
for title, rows in sections:
    print(f"\n{title}")
    print(f"  {'measurement':<42}{'topobench':>10}{'peer':>10}{'ratio':>7}{'target':>8}  "
          f"{'verdict':<8}{'n':>2}  spread topobench / peer")
    for metric, what, target, extra in rows:
        for m, w, t in [(metric, what, target)] + [(metric + k, w, None) for k, w in extra]:
            a, b = pair(m)
            ma = statistics.median(a) if a else None
            mb = statistics.median(b) if b else None
            ratio = ma / mb if ma and mb else None
            if t is None:
                tgt, verdict = "info", "-"
            elif ratio is None:
                tgt, verdict = f"±{t:.0%}", "NO DATA"
                misses += 1
            else:
                tgt = f"±{t:.0%}"
                verdict = "PASS" if abs(ratio - 1) <= t else "MISS"
                misses += verdict == "MISS"
            print(f"  {w:<42}{fmt(ma):>10}{fmt(mb):>10}{fmt(ratio):>7}{tgt:>8}  {verdict:<8}"
                  f"{min(len(a), len(b)):>2}  {rng(a)} / {rng(b)}")
print(f"\nratio = topobench / peer (medians over repetitions); "
      f"{misses} targeted measurement(s) outside the target")
PY
[ "$failed" = 0 ] || echo "some runs failed; their measurements are missing above" >&2
exit 0
