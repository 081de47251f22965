#!/usr/bin/env bash
# topobench's point-to-point tests over MPI and over UCX (--backend ucx) on the same ranks,
# alternating which goes first, so the table shows what the transport changes on this
# machine. Two ranks; UCX_TLS and friends pass through (mpirun -x). Always exits 0.
# Usage: bash bench/perf/compare_ucx.sh [-r REPS] [path/to/topobench]
#   REPS (default 3): runs of each backend; the table gives the median of the runs' means
#   and how many runs it is over (a failed run, or an entry that did not end ok, counts
#   for nothing and is said).
set -u
reps=3
while getopts r: o; do
  case $o in r) reps=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
TB=${1:-build/bench/topobench}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d /tmp/topobench-ucx-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
xs=()
for v in $(env | grep -o '^UCX_[A-Z_]*'); do xs+=(-x "$v"); done
echo "# $(uptime)"
for ((i = 0; i < reps; i++)); do
  order="mpi ucx"
  [ $((i % 2)) = 1 ] && order="ucx mpi"
  for b in $order; do
    mpirun -np 2 --bind-to core "${xs[@]}" "$TB" run --backend "$b" -t latency,bw,bibw \
      -b 8 -e 1M -f 8 -T 100ms -c 1 --no-progress -q --no-analyze -o "$work/$b-$i" \
      >"$work/$b-$i.log" 2>&1 || { echo "$b run $i failed:"; tail -5 "$work/$b-$i.log"; }
  done
done
echo "# $(uptime)"
python3 - "$work" "$reps" <<'PY'
import json, statistics, sys, glob
work, reps = sys.argv[1], int(sys.argv[2])
val = {}  # (test, size, backend) -> [figure per run]
sel = set()
for path in glob.glob(f"{work}/*/results.json"):
    doc = json.load(open(path))
    for t in doc["tests"]:
        if t["status"] != "ok":
            continue
        for s in t.get("selected", {}).get("selections", []):
            sel.add(s["transports"])
        for r in t["results"]:
            f = r["time_us"]["mean"] if t["name"] == "latency" else r["bw_gbps"]
            val.setdefault((t["name"], r["size"], t["backend"]), []).append(f)
print(f"UCX selected: {', '.join(sorted(sel)) or 'nothing recorded'}")
print(f"{'test':8} {'size':>8} {'mpi':>10} {'ucx':>10} {'ucx/mpi':>8}   (median of {reps} runs unless said; latency us, bw GB/s)")
short = []
for (name, size, b) in sorted(val, key=lambda k: (["latency", "bw", "bibw"].index(k[0]), k[1])):
    if b != "mpi" or (name, size, "ucx") not in val:
        continue
    vm, vu = val[(name, size, "mpi")], val[(name, size, "ucx")]
    m, u = statistics.median(vm), statistics.median(vu)
    runs = "" if len(vm) == reps and len(vu) == reps else f"   (runs: mpi {len(vm)}, ucx {len(vu)})"
    if runs:
        short.append(f"{name} {size}")
    print(f"{name:8} {size:>8} {m:>10.3g} {u:>10.3g} {u / m if m else float('nan'):>8.2f}{runs}")
if short:
    print(f"# {len(short)} rows rest on fewer than {reps} runs (the failed runs are shown above)")
PY
exit 0
