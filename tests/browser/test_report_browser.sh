#!/usr/bin/env bash
# The HTML report opened in headless Chromium (label "browser"): the sample document (and
# with a baseline: its lines in the sweep plots), the analyser's documents with a known culprit, a document whose every free-text field is
# markup, a GPU copy entry (per-node matrices), a generated 48-node x 8-rank cluster
# (aggregated heatmaps) and a real run on this machine. Each: no console error, no
# request, the sections, the culprit in the banner, a heatmap cell's hover text; a
# screenshot per report in $TB_BROWSER_OUT (default: browser-reports/ in the build tree).
# Exit 77 (skip) without chromium.
. "$(dirname "$0")/../mpi/common.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${TB_TEST_DATA_DIR:-$HERE/../data}
# shellcheck source=tests/browser/lib.sh
. "$HERE/lib.sh"

# 1. The report's sample document: matrices, sweeps, no analysis.
cp "$DATA/report/results-sample.json" "$WORK/results.json"
expect_status 0 "report --format html on the sample" "$TB" report "$WORK/results.json" -f html -o "$WORK/sample"
check sample "$WORK/sample/report.html" --hover "0:1:0:nodeA:1 -> nodeA:0: 38.0 GB/s, spread 15.0%" \
  --text "Not analysed" --text "all_reduce (float)" --text "Open MPI v4.1.4"

# 1b. With a baseline (report --baseline): its line in the sweep plots, matched by key. The
#     baseline's run lists its tests in reverse order with half the bandwidth and twice the
#     latency, so the figures in the baseline's points say that entries matched by key.
python3 - "$DATA/report/results-sample.json" "$WORK/base/results.json" <<'PY'
import json, os, sys
doc = json.load(open(sys.argv[1]))
doc["tests"].reverse()
for t in doc["tests"]:
    for r in t.get("results", []):
        for k in ("busbw_gbps", "algbw_gbps", "bw_gbps"):
            if isinstance(r.get(k), (int, float)):
                r[k] /= 2
        for k in ("mean", "min", "median", "p99", "max"):
            if isinstance(r.get("time_us", {}).get(k), (int, float)):
                r["time_us"][k] *= 2
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
json.dump(doc, open(sys.argv[2], "w"))
PY
expect_status 0 "baseline of the half-speed run" "$TB" baseline "$WORK/base/results.json" -o "$WORK/base.json"
expect_status 0 "report --baseline" "$TB" report "$WORK/results.json" -f html --baseline "$WORK/base.json" -o "$WORK/baseline"
check baseline "$WORK/baseline/report.html" --element "#plot-bw polyline.baseline" \
  --element "#plot-time polyline.baseline" --text "bw (inter-node) (dotted: baseline)" \
  --text "Baseline (dotted lines, open squares): $WORK/base/results.json (results, run of" \
  --element-text "#plot-bw rect title" "bw (inter-node), baseline at 4 MiB: 11.5 GB/s" \
  --element-text "#plot-bw rect title" "all_reduce (float) in-place, baseline at 4 MiB: 4.49 GB/s" \
  --element-text "#plot-time rect title" "latency (intra-node), baseline at 8 B: 0.496 us"

# 2. Analysed documents with a known culprit each: named in the banner.
for spec in "slow_node:n3:0:3:0:n3:3 -> n0:0: 9.32 GB/s" "one_way:n2 -> n5:0:2:5:n2:2 -> n5:5" \
  "slow_link:n1 <-> n4:0:1:4:n1:1 -> n4:4"; do
  IFS=: read -r doc culprit m i j want <<<"$spec"
  want=${spec#*:*:*:*:*:}
  mkdir -p "$WORK/$doc"
  cp "$DATA/analysis/$doc.json" "$WORK/$doc/results.json"
  expect_status 0 "analyze $doc" "$TB" analyze "$WORK/$doc/results.json"
  expect_status 0 "report $doc" "$TB" report "$WORK/$doc/results.json" -f html
  check "$doc" "$WORK/$doc/report.html" --culprit "$culprit" --hover "$m:$i:$j:$want" --text "SUSPECT" \
    --text "topobench-bind.sh"
done
# The recommendation files' texts, ready to copy: the slow node excluded from the Slurm line.
check slow_node-recommendations "$WORK/slow_node/report.html" --text "--exclude=n3 ./topobench-bind.sh APP" \
  --text "nccl.env" --text "rank 0=n0 slot="

# 3. Markup and quotes in every free-text field render as text: no element from them, no
#    dialog; the culprit's hostile name is shown literally.
mkdir -p "$WORK/hostile"
python3 "$HERE/hostile_doc.py" "$DATA/analysis/slow_node.json" "$WORK/hostile/results.json"
expect_status 0 "analyze the hostile document" "$TB" analyze "$WORK/hostile/results.json"
expect_status 0 "report the hostile document" "$TB" report "$WORK/hostile/results.json" -f html,md
evil='<script>alert(1)</script><img src=x onerror=alert(2)>"'"'"'&amp;'
check hostile "$WORK/hostile/report.html" --culprit "${evil}n3" --hover "0:3:0:${evil}n3:3 -> ${evil}n0:0" \
  --text "${evil} message" --text "NCCL_DEBUG"
if grep -q '<script>alert' "$WORK/hostile/report.md"; then fail "report.md holds raw markup"; else pass "report.md escapes markup"; fi

# 4. A GPU copy entry (per-node matrices, their expected figures and path classes).
python3 - "$DATA/report/results-sample.json" "$WORK/gpu/results.json" <<'PY'
import json, os, sys
doc = json.load(open(sys.argv[1]))
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
N = None
doc["tests"].append({"name": "gpu_copy", "kind": "gpu_copy", "backend": "cuda", "send_memory": None,
  "recv_memory": None, "dtype": "byte", "placement": None, "level": "node", "status": "ok",
  "params": {"size": 1048576, "batch": 16, "warmup": 4, "samples": 3}, "results": [], "errors": [],
  "nodes": [{"host": "nodeA", "node_index": 0, "rank": 0, "status": "ok",
    "labels": ["NUMA0", "NUMA1", "GPU0", "GPU1"],
    "paths": {"NUMA0": {"GPU0": "PHB", "GPU1": "SYS"}, "NUMA1": {"GPU0": "SYS", "GPU1": "PHB"},
              "GPU0": {"NUMA0": "PHB", "NUMA1": "SYS", "GPU0": "X", "GPU1": "NV18"},
              "GPU1": {"NUMA0": "SYS", "NUMA1": "PHB", "GPU0": "NV18", "GPU1": "X"}},
    "copy_gbps": [[N, N, 26.1, 20.5], [N, N, 19.9, 26.3], [25.5, 18.5, 1500.2, 376.4], [18.7, 25.7, 375.0, 1490.0]],
    "copy_cv": [[N, N, 0.01, 0.01], [N, N, 0.01, 0.01], [0.01, 0.01, 0.001, 0.002], [0.01, 0.01, 0.002, 0.001]],
    "expected_gbps": [[N, N, 55, 22], [N, N, 22, 55], [55, 22, N, 376], [22, 55, 376, N]]},
   {"host": "nodeB", "node_index": 1, "rank": 2, "status": "skipped", "skip_reason": "nodeB: no CUDA device"}]})
json.dump(doc, open(sys.argv[2], "w"))
PY
expect_status 0 "report with a gpu_copy entry" "$TB" report "$WORK/gpu/results.json" -f html
check gpu_copy "$WORK/gpu/report.html" --text "gpu_copy (cuda-node): copy_gbps [GB/s]" \
  --hover "3:2:3:nodeA: GPU0 -> GPU1: 376 GB/s, spread 0.2% (cv over repetitions); path NV18; expected 376 GB/s (measured/expected 1.00)"

# 5. A generated cluster above TB_HTML_GRID_MAX ranks: aggregated per node pair.
python3 "$HERE/gen_cluster.py" "$WORK/cluster" 48 8 --slow 16 >/dev/null
expect_status 0 "analyze the 48-node cluster" "$TB" analyze "$WORK/cluster/results.json"
expect_status 0 "report the 48-node cluster" "$TB" report "$WORK/cluster/results.json" -f html
check cluster-48x8 "$WORK/cluster/report.html" --culprit node0016 \
  --hover "0:16:0:node node0016 -> node node0000: 1.2" --text "384 ranks aggregated to 48 nodes"

# 6. A real run on this machine: `run` writes report.html beside the CSV files.
if tb_mpirun 4 "$TB" run --suite quick -e 64K -m 64K -T 5ms -o "$WORK/run" --no-progress >"$WORK/out" 2>&1; then
  pass "quick run with 4 ranks"
  if [ -s "$WORK/run/report.html" ]; then pass "run wrote report.html"; else fail "run wrote no report.html"; fi
  check real-run "$WORK/run/report.html" --hover "0:1:0:$(hostname):1 -> $(hostname):0" --text "The run"
else
  fail "quick run with 4 ranks"
  tail -20 "$WORK/out"
fi
echo "screenshots: $OUT"
finish
