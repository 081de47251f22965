#!/usr/bin/env bash
# The HTML report of the generated 512-node x 8-rank cluster in headless Chromium (label
# "browser"): tests/scale/gen_cluster.c's document with its injected faults, analysed,
# then `report --format html`: at most 15 MB; the page opens with no console error and no
# request, every section, the rank matrices aggregated to 512 x 512 node pairs, the
# injected slow nodes and a slow link named in the banner, the hover of a slow node's
# node-pair cell. The screenshot goes to $TB_BROWSER_OUT. The load and write times are
# printed, not judged (bench/perf/report_html.sh measures them against their targets).
# ~0.7 GB of side files in a temporary directory; about a minute here, most of it the
# analysis. Usage: test_report_512.sh TOPOBENCH TB_GEN_CLUSTER. Exit 77 without chromium.
. "$(dirname "$0")/../mpi/common.sh"
GEN=${2:?usage: test_report_512.sh TOPOBENCH TB_GEN_CLUSTER}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/browser/lib.sh
. "$HERE/lib.sh"

D=$WORK/cluster
expect_status 0 "generate 512 nodes x 8 ranks with faults" "$GEN" "$D" -n 512
expect_status 0 "analyze it" "$TB" analyze "$D/results.json"
start=$(date +%s%N)
expect_status 0 "report --format html" env TOPOBENCH_REPORT_TIMES=1 "$TB" report "$D/results.json" -f html -o "$WORK/html"
echo "$(grep 'writing report.html' "$WORK/out") ($((($(date +%s%N) - start) / 1000000)) ms wall, load average $(cut -d' ' -f1 /proc/loadavg))"
size=$(stat -c %s "$WORK/html/report.html")
if [ "$size" -le 15000000 ]; then pass "report.html is $size bytes (at most 15 MB)"; else
  fail "report.html is $size bytes, above 15 MB"; fi

# The culprits the generator injected (faults.json), as the banner must name them; the
# first slow node's row in the aggregated map is its node number (nodes in label order).
read -r slow link <<<"$(python3 - "$D/faults.json" <<'PY'
import json, sys
want = json.load(open(sys.argv[1]))["expected_culprits"]
node = [c["subject"] for c in want if c["kind"] == "node"][0]
link = [c["subject"] for c in want if c["kind"] == "link"][0]
print(node, link.replace(" ", "_"))
PY
)"
link=${link//_/ }
row=$((10#${slow##*-}))
check cluster-512x8 "$WORK/html/report.html" --culprit "$slow" --culprit "$link" \
  --hover "0:$row:0:node $slow -> node gpu-node-0000: " --text "4096 ranks aggregated to 512 nodes" \
  --text "SUSPECT"
finish
