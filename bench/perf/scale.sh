#!/usr/bin/env bash
# Benchmark (not a test): is rank 0 fit for a 4,096-rank job? Prints time and peak memory
# against the goals of issue 6 point 7:
#   rank 0 below 512 MiB; each rewrite of results.json below 2 s; `topobench report` below
#   5 s; matrices stored compactly (NPY side files above 64 ranks); the terminal aggregates
#   matrices above 64 ranks; node grouping O(N log N).
# 1. bench/perf/scale_gen.c stands in for rank 0 of an NRANKS-rank full-suite run (the
#    document with every node's topology, every sweep entry, five rank and five node
#    matrices stored as the run stores them, rewritten after every entry) under
#    /usr/bin/time -v; 2. `topobench report` on that document; 3. node grouping against the
#    quadratic grouping it replaced, on the same names; 4. a real REAL-rank run on this
#    machine (oversubscribed, quick settings) with rank 0 under /usr/bin/time, and `report`
#    on its document.
# Times are given as wall and CPU (user + sys) time: on a shared machine the wall time is
# mostly waiting for a core (the load average is printed), so the verdicts use CPU time,
# what the work costs rank 0's core.
# Usage: bash bench/perf/scale.sh [BUILD_DIR] [NRANKS] [RANKS_PER_NODE]   (build 4096 8)
#   TB_SCALE_REAL=N    ranks of the real run (default 64; 0 skips it)
#   TB_SCALE_TOPO=F    topology file for every node (default: an H100 NCCL topology from
#                      the fixtures; none if absent)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-4096}
per=${3:-8}
real=${TB_SCALE_REAL:-64}
fixtures=${TB_FIXTURES_DIR:-$root/../shared/fixtures}
topo=${TB_SCALE_TOPO:-$fixtures/nccl_topo_xml/oci-hpc-oke_BM.GPU.H100.8.xml}
[ -f "$topo" ] || topo=""
# shellcheck source=bench/perf/lib.sh
. "$root/bench/perf/lib.sh"
perf_prepare scale.sh "$build" tb_scale_gen topobench
gen=$(perf_exe "$build" tb_scale_gen)
tb=$(perf_exe "$build" topobench)
mib=$((512 * 1024))

row() { printf "%-46s %14s %12s  %s\n" "$@"; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "document: $n ranks, $per per node${topo:+, each node with the topology of $(basename "$topo")}"

# 1. rank 0's document work
mkdir -p "$work/doc"
$timer -f "%e %U %S %M" -o "$work/gen.time" "$gen" doc "$work/doc" "$n" "$per" $topo \
  >"$work/gen.out"
max_wall=$(awk '/^max_rewrite_wall_s/ {print $2}' "$work/gen.out")
max_cpu=$(awk '/^max_rewrite_cpu_s/ {print $2}' "$work/gen.out")
rewrites=$(grep -c '^rewrite ' "$work/gen.out")
json_bytes=$(stat -c %s "$work/doc/results.json")
npy_bytes=$(stat -c %s "$work/doc/matrix-rank-recv_gbps.npy" 2>/dev/null || echo 0)
gen_rss=$(rss_of "$work/gen.time")

# 2. report on it
$timer -f "%e %U %S %M" -o "$work/rep.time" "$tb" report "$work/doc/results.json" \
  -o "$work/rep" >"$work/rep.out" 2>"$work/rep.err"
rep_lines=$(wc -l <"$work/rep.out")

echo
row "measured ($n ranks)" "value" "goal" "verdict"
row "rank 0 peak memory, document work (MiB)" "$((gen_rss / 1024))" "512" \
  "$(verdict "$gen_rss" $mib)"
row "largest of $rewrites rewrites, CPU s (wall s)" "$max_cpu ($max_wall)" "2" \
  "$(verdict "$max_cpu" 2)"
row "results.json (MB); one matrix file (MB)" \
  "$((json_bytes / 1000000)); $((npy_bytes / 1000000))" "" \
  "$(python3 -c "print(f'{$npy_bytes / ($n * $n * 8):.3f} x raw float64')")"
row "report: CPU s (wall s)" "$(cpu_of "$work/rep.time") ($(wall_of "$work/rep.time"))" "5" \
  "$(verdict "$(cpu_of "$work/rep.time")" 5)"
row "report peak memory (MiB)" "$(($(rss_of "$work/rep.time") / 1024))" "512" \
  "$(verdict "$(rss_of "$work/rep.time")" $mib)"
row "report terminal lines (grids: 10 x $n)" "$rep_lines" "$n" \
  "$(verdict "$rep_lines" "$n")"
"$gen" group "$n" "$per"
"$gen" group $((4 * n)) "$per"
echo
echo "rewrites (wall, CPU, size):"
grep '^rewrite ' "$work/gen.out" | sed 's/^/  /'

# 4. a real run here
if [ "$real" -gt 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
  echo
  echo "real run: $real ranks on this machine (oversubscribed), rank 0 under $timer"
  start=$(date +%s)
  if mpirun --oversubscribe -np "$real" bash -c \
    'if [ "$OMPI_COMM_WORLD_RANK" = 0 ]; then exec '"$timer"' -f "%e %U %S %M" -o "$0" "$@"; else exec "$@"; fi' \
    "$work/real.time" "$tb" run -s quick -t latency,all_reduce,matrix,node_matrix -e 64K -m 64K \
    -T 2ms --timeout 600s --no-progress -o "$work/real" >"$work/real.out" 2>&1; then
    $timer -f "%e %U %S %M" -o "$work/realrep.time" "$tb" report "$work/real/results.json" \
      -o "$work/realrep" -q >/dev/null 2>&1
    row "measured (real run, $real ranks)" "value" "goal" "verdict"
    row "job wall time (s)" "$(($(date +%s) - start))" "" ""
    row "rank 0 peak memory (MiB)" "$(($(rss_of "$work/real.time") / 1024))" "512" \
      "$(verdict "$(rss_of "$work/real.time")" $mib)"
    row "rank 0 CPU s" "$(cpu_of "$work/real.time")" "" ""
    row "results.json (KB)" "$(($(stat -c %s "$work/real/results.json") / 1000))" "" ""
    row "matrix side files" "$(ls "$work/real" | grep -c '\.npy$' || true)" "" \
      "(inline up to 64 ranks)"
    row "terminal lines of the run" "$(wc -l <"$work/real.out")" "" ""
    row "report: CPU s (wall s)" \
      "$(cpu_of "$work/realrep.time") ($(wall_of "$work/realrep.time"))" "5" \
      "$(verdict "$(cpu_of "$work/realrep.time")" 5)"
  else
    echo "the real run failed; its last lines:"
    tail -20 "$work/real.out"
  fi
fi
