#!/usr/bin/env bash
# Benchmark (not a test): the HTML report of a 512-node x 8-GPU results document against
# issue 10's targets: report.html at most 15 MB, written in under 2 s, Chromium's load
# event in under 5 s.
# 1. bench/perf/scale_gen.c writes the document rank 0 holds at the end of a full-suite
#    run of NRANKS ranks (every node's topology imported from an H100 NCCL topology of the
#    fixtures, every sweep, rank and node matrices as NPY side files); TB_REPORT_DOC=DIR
#    uses a document already there (e.g. the scale helper's generator in tests/) instead;
# 2. `topobench report -f md` on it under /usr/bin/time: the document's load alone, the
#    reference measured in the same run; 3. `topobench report -f html`, its size and time,
#    and the ratio to the reference; 4. the page in headless Chromium (load event).
# Times are wall and CPU (user + sys): on a shared machine wall time is mostly waiting for
# a core (the load average is printed), so the verdict uses CPU time.
# Usage: bash bench/perf/report_html.sh [BUILD_DIR] [NRANKS] [RANKS_PER_NODE]  (build 4096 8)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-4096}
per=${3:-8}
fixtures=${TB_FIXTURES_DIR:-$root/../shared/fixtures}
topo=${TB_SCALE_TOPO:-$fixtures/nccl_topo_xml/oci-hpc-oke_BM.GPU.H100.8.xml}
[ -f "$topo" ] || topo=""
timer=/usr/bin/time
[ -x $timer ] || { echo "report_html.sh needs /usr/bin/time (Debian package 'time')" >&2; exit 77; }
cmake --build "$build" --target tb_scale_gen topobench -j2 >/dev/null
tb=$(find "$build" -type f -name topobench -perm -u+x | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${TB_REPORT_DOC:-}" ]; then
  doc=$TB_REPORT_DOC
else
  gen=$(find "$build" -type f -name tb_scale_gen -perm -u+x | head -1)
  echo "generating a $n-rank document ($per per node) ..."
  mkdir -p "$work/doc"
  "$gen" doc "$work/doc" "$n" "$per" $topo >/dev/null
  doc=$work/doc
fi
echo "document: $(du -sh "$doc" | cut -f1) with side files; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

cpu() { awk '{printf "%.2f", $2 + $3}' "$1"; }
wall() { awk '{printf "%.2f", $1}' "$1"; }
$timer -f "%e %U %S %M" -o "$work/md.time" "$tb" report "$doc/results.json" -f md -o "$work/out" >/dev/null
$timer -f "%e %U %S %M" -o "$work/html.time" "$tb" report "$doc/results.json" -f html -o "$work/out" >/dev/null
size=$(stat -c %s "$work/out/report.html")
ref=$(cpu "$work/md.time")
html=$(cpu "$work/html.time")
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { print (x <= t ? "meets" : "MISSES") }'; }
printf 'reference: report -f md (loading the document): %s s CPU, %s s wall\n' "$ref" "$(wall "$work/md.time")"
printf 'report.html: %.2f MB (target 15 MB: %s)\n' "$(echo "$size / 1000000" | bc -l)" "$(verdict "$size" 15000000)"
printf 'report -f html: %s s CPU, %s s wall, %s MiB peak (target 2 s: %s, by CPU); %.2fx the reference\n' \
  "$html" "$(wall "$work/html.time")" "$(awk '{printf "%d", $4 / 1024}' "$work/html.time")" \
  "$(verdict "$html" 2)" "$(echo "$html / $ref" | bc -l)"
printf '  of which rendering (html - reference): %.2f s CPU\n' "$(echo "$html - $ref" | bc -l)"
if command -v chromium >/dev/null; then
  line=$(python3 "$root/tests/browser/check_report.py" "$work/out/report.html" --load-only | grep 'load event')
  load=$(echo "$line" | sed 's/.*after \([0-9.]*\) s.*/\1/')
  printf 'chromium: load event after %s s (target 5 s: %s); load average %s\n' "$load" \
    "$(verdict "$load" 5)" "$(cut -d' ' -f1 /proc/loadavg)"
else
  echo "chromium: not installed, load time not measured"
fi
