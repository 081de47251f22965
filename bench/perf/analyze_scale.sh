#!/usr/bin/env bash
# Benchmark (not a test): the analyzer on a 4,096-rank cluster (issue 9 point 7). Goal:
# `topobench analyze` and every report file of the document in < 5 s and < 2 GiB.
# 1. tests/scale/gen_cluster.c writes a simulated 512-node x 8-rank document (rank and
#    node matrices in .npy side files, p2p, collectives, every node's topology, 5% noise,
#    the injected faults of docs/analysis.md "At scale");
# 2. the reference, measured in the same run: reading the document and its side files
#    once (cat to /dev/null: what any reader of the run pays);
# 3. `topobench analyze` (writing its section into the document) and `topobench report`
#    (every CSV file) under /usr/bin/time; CPU (user + sys), wall and peak resident
#    memory against the goals, and the ratio to the reference;
# 4. whether the analysis names every injected fault and nothing else.
# Times are CPU time (what the work costs, whatever else shares the cores; the load
# average is printed) and wall time.
# Usage: bash bench/perf/analyze_scale.sh [BUILD_DIR] [NODES] [RANKS_PER_NODE] (build 512 8)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
nodes=${2:-512}
per=${3:-8}
# shellcheck source=bench/perf/lib.sh
. "$root/bench/perf/lib.sh"
perf_prepare analyze_scale.sh "$build" tb_gen_cluster topobench
gen=$(perf_exe "$build" tb_gen_cluster)
tb=$(perf_exe "$build" topobench)
mib_of() { awk '{printf "%d", $4 / 1024}' "$1"; }
row() { printf "%-44s %12s %12s %10s  %s\n" "$@"; }

echo "machine: $(nproc) cores; uptime:$(uptime)"
$timer -f "%e %U %S %M" -o "$work/gen.time" "$gen" "$work/doc" -n "$nodes" -g "$per"
doc=$work/doc/results.json
echo "document: $nodes nodes x $per ranks; results.json $(($(stat -c %s "$doc") / 1000000)) MB," \
  "$(ls "$work/doc"/*.npy | wc -l) side files, $(du -sm "$work/doc" | cut -f1) MiB in all" \
  "(generated in $(wall_of "$work/gen.time") s)"

$timer -f "%e %U %S %M" -o "$work/ref.time" sh -c 'cat "$0"/* >/dev/null' "$work/doc"
$timer -f "%e %U %S %M" -o "$work/an.time" "$tb" analyze "$doc" --program topobench \
  >"$work/an.out" 2>&1
$timer -f "%e %U %S %M" -o "$work/rep.time" "$tb" report "$doc" -o "$work/rep" -q \
  >"$work/rep.out" 2>&1
total=$(awk -v a="$(cpu_of "$work/an.time")" -v b="$(cpu_of "$work/rep.time")" \
  'BEGIN {printf "%.2f", a + b}')
total_wall=$(awk -v a="$(wall_of "$work/an.time")" -v b="$(wall_of "$work/rep.time")" \
  'BEGIN {printf "%.2f", a + b}')
peak=$(( $(mib_of "$work/an.time") > $(mib_of "$work/rep.time") ?
  $(mib_of "$work/an.time") : $(mib_of "$work/rep.time") ))
ref=$(cpu_of "$work/ref.time")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }'; }
goal() { awk -v a="$1" 'BEGIN { printf "%.2f of the 5 s goal", a / 5 }'; }

echo
row "measured" "CPU s" "wall s" "peak MiB" "goal / verdict"
row "reference: read the files once (cat)" "$ref" "$(wall_of "$work/ref.time")" \
  "$(mib_of "$work/ref.time")" ""
row "topobench analyze (writes its section)" "$(cpu_of "$work/an.time")" \
  "$(wall_of "$work/an.time")" "$(mib_of "$work/an.time")" \
  "$(goal "$(cpu_of "$work/an.time")"); $(ratio "$(cpu_of "$work/an.time")" "$ref") the reference"
row "topobench report (every CSV file)" "$(cpu_of "$work/rep.time")" \
  "$(wall_of "$work/rep.time")" "$(mib_of "$work/rep.time")" \
  "$(goal "$(cpu_of "$work/rep.time")"); $(ratio "$(cpu_of "$work/rep.time")" "$ref") the reference"
row "analyze + report" "$total" "$total_wall" "$peak" \
  "$(goal "$total") (CPU): $(verdict "$total" 5); wall: $(verdict "$total_wall" 5); < 2048 MiB: $(verdict "$peak" 2048)"
echo
echo "report files: $(ls "$work/rep" | wc -l) ($(du -sm "$work/rep" | cut -f1) MiB)"
echo "analyze's verdict:"
sed -n '1,/^confirm in isolation/p' "$work/an.out" | grep -E '^(analysis|  [A-Z])' | sed 's/^/  /'
python3 - "$doc" "$work/doc/faults.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["analysis"]
want = {(c["kind"], c["subject"]) for c in json.load(open(sys.argv[2]))["expected_culprits"]}
got = {(c["kind"], c["subject"]) for c in a["culprits"]}
print(f"cells judged {a['cells_judged']}, flagged {a['cells_flagged']}")
print("names every injected fault and nothing else:", "yes" if got == want else
      f"NO (missed {sorted(want - got)}, extra {sorted(got - want)})")
PY
