#!/usr/bin/env bash
# Benchmark (not a test): the HTML report of a 512-node x 8-GPU results document against
# issue 10's targets: report.html at most 15 MB, written in under 2 s, Chromium's load
# event in under 5 s. Prints each figure and its ratio to the target.
# 1. bench/perf/scale_gen.c writes the document rank 0 holds at the end of a full-suite
#    run of NRANKS ranks (every node's topology imported from an H100 NCCL topology of the
#    fixtures, every sweep, rank and node matrices as NPY side files); TB_REPORT_DOC=DIR
#    uses a document already there (e.g. the scale helper's generator in tests/) instead;
# 2. `topobench report -f md` on it under /usr/bin/time: the document's load (and
#    whatever else every format does first), the reference; 3. `topobench report -f
#    html`, with TOPOBENCH_REPORT_TIMES=1 so it says the CPU time of loading the document
#    and of writing report.html apart; writing is also the html run's CPU time less the
#    reference's (the only way to time a binary older than TOPOBENCH_REPORT_TIMES). Each
#    is run REPS times (default 3), alternating, and the least CPU time kept: on a shared
#    machine the rest is other processes' interference; 4. the page in headless Chromium
#    (load event).
# TB_REPORT_BEFORE=/path/to/an/older/topobench measures that binary too, in the same
# session on the same document, and prints the ratio (how docs/report.md's before/after
# figures were taken).
# Times are CPU (user + sys): on a shared machine wall time is mostly waiting for a core
# (the load average is printed beside each figure).
# Usage: bash bench/perf/report_html.sh [BUILD_DIR] [NRANKS] [RANKS_PER_NODE]  (build 4096 8)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-4096}
per=${3:-8}
reps=${REPS:-3}
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
load() { cut -d' ' -f1 /proc/loadavg; }
echo "document: $(du -sh "$doc" | cut -f1) with side files; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# best BIN FORMAT: the least CPU time of $reps runs ("cpu wall peak_kib"), alternating
# formats is the caller's.
run1() { # BIN FORMAT: "cpu wall peak_kib load_s write_s" (the last two: -1 when not said)
  TOPOBENCH_REPORT_TIMES=1 $timer -f "%e %U %S %M" -o "$work/t" "$1" report "$doc/results.json" \
    -f "$2" -o "$work/out-$2" >/dev/null 2>"$work/err"
  awk -v l="$(sed -n 's/^report: loading the document: \([0-9.]*\) s CPU/\1/p' "$work/err")" \
    -v w="$(sed -n 's/^report: writing report.html: \([0-9.]*\) s CPU/\1/p' "$work/err")" \
    '{printf "%.2f %.2f %d %s %s\n", $2 + $3, $1, $4, l == "" ? -1 : l, w == "" ? -1 : w}' "$work/t"
}
best() { sort -n "$1" | head -1; }
least() { awk -v c="$2" '$c >= 0 { print $c }' "$1" | sort -n | head -1; }
ratio() { awk -v x="$1" -v t="$2" 'BEGIN { printf "%.2f of the target (%s)", x / t, x <= t ? "meets" : "MISSES" }'; }
measure() { # BIN TAG: $work/TAG-md, $work/TAG-html
  : >"$work/$2-md"
  : >"$work/$2-html"
  for _ in $(seq "$reps"); do
    run1 "$1" md >>"$work/$2-md"
    run1 "$1" html >>"$work/$2-html"
  done
}
report_times() { # TAG LABEL
  local tag=$1 label=$2 md_cpu md_wall html_cpu html_wall html_peak rest write
  read -r md_cpu md_wall rest <<<"$(best "$work/$tag-md")"
  read -r html_cpu html_wall html_peak rest <<<"$(best "$work/$tag-html")"
  write=$(echo "$html_cpu - $md_cpu" | bc -l)
  printf '%s: report -f md (the reference: loading the document): %s s CPU, %s s wall (best of %s)\n' "$label" "$md_cpu" "$md_wall" "$reps"
  printf '%s: report -f html: %s s CPU, %s s wall, %d MiB peak (best of %s): %s\n' "$label" "$html_cpu" "$html_wall" $((html_peak / 1024)) "$reps" "$(ratio "$html_cpu" 2)"
  printf '%s:   writing report.html (html - md): %.2f s CPU: %s\n' "$label" "$write" "$(ratio "$write" 2)"
  if [ -n "$(least "$work/$tag-html" 5)" ]; then
    printf '%s:   as the html run says it (TOPOBENCH_REPORT_TIMES): loading the document %s s CPU, writing report.html %s s CPU: %s\n' \
      "$label" "$(least "$work/$tag-html" 4)" "$(least "$work/$tag-html" 5)" "$(ratio "$(least "$work/$tag-html" 5)" 2)"
  fi
  eval "cpu_$tag=$html_cpu write_$tag=$write"
}
measure "$tb" now
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
report_times now "this build"
size=$(stat -c %s "$work/out-html/report.html")
printf 'report.html: %.2f MB: %s\n' "$(echo "$size / 1000000" | bc -l)" "$(ratio "$(echo "$size / 1000000" | bc -l)" 15)"
if [ -n "${TB_REPORT_BEFORE:-}" ]; then
  cp "$work/out-html/report.html" "$work/now.html"
  measure "$TB_REPORT_BEFORE" before
  echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
  report_times before "$TB_REPORT_BEFORE"
  printf 'this build against %s: report -f html %.2fx faster, writing %.2fx faster (CPU)\n' \
    "$TB_REPORT_BEFORE" "$(echo "$cpu_before / $cpu_now" | bc -l)" "$(echo "$write_before / $write_now" | bc -l)"
  mv "$work/now.html" "$work/out-html/report.html"
fi
if command -v chromium >/dev/null; then
  line=$(python3 "$root/tests/browser/check_report.py" "$work/out-html/report.html" --load-only | grep 'load event')
  t=$(echo "$line" | sed 's/.*after \([0-9.]*\) s.*/\1/')
  printf 'chromium: load event after %s s (load average %s): %s\n' "$t" "$(load)" "$(ratio "$t" 5)"
else
  echo "chromium: not installed, load time not measured"
fi
