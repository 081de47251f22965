#!/usr/bin/env bash
# Benchmark (not a test): the all-pairs matrix costs N-1 shift rounds, so its wall time
# should grow linearly with N when the machine has a core per rank. Runs the rank matrix
# at several N and prints rounds, wall time and time per round. (Memory is O(N^2) doubles
# on rank 0 and O(N) elsewhere by construction: see bench/matrix.c.)
# Usage: bash bench/perf/matrix_scaling.sh [path/to/topobench] [N...]
set -euo pipefail
tb=${1:-build/bench/topobench}
shift || true
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(2 4 8)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf "%4s %7s %10s %14s %s\n" N rounds wall_s s_per_round note
for n in "${ns[@]}"; do
  mpirun --oversubscribe -np "$n" "$tb" run -t matrix -m 256K -T 20ms -q --no-progress \
    -o "$work/n$n" >/dev/null 2>&1 || { echo "N=$n failed"; continue; }
  python3 - "$work/n$n/results.json" "$n" "$(nproc)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2]); cores = int(sys.argv[3])
m = [t for t in d["tests"] if t["name"] == "matrix"][0]["matrix"]
note = "" if n <= cores else f"oversubscribed: {n} ranks on {cores} cores share the CPUs"
print(f"{n:4d} {m['rounds']:7d} {m['elapsed_s']:10.3f} {m['elapsed_s']/m['rounds']:14.4f} {note}")
PY
done
echo "Linear growth shows as a constant s_per_round while ranks <= cores."
