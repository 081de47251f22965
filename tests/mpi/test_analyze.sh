#!/usr/bin/env bash
# `topobench analyze`: offline on a real quick run here (exit 0, a versioned analysis
# section written into the document, a verdict printed first), on a hand-made document
# with one slow node (the node named, the confirmation command printed), and bad input
# (2 usage, 3 malformed, 4 unwritable).
. "$(dirname "$0")/common.sh"

DATA=${TB_TEST_DATA_DIR:-}
if [ ! -f "$DATA/analysis/slow_node.json" ]; then
  echo "skip: TB_TEST_DATA_DIR does not hold analysis/slow_node.json"
  exit 77
fi

# A real run: 4 ranks, the matrix and the p2p tests; rank 0 analyses at the end.
expect_status 0 "quick run" tb_mpirun 4 "$TB" run -s quick -t latency,bw,matrix -o "$WORK/run" -q --no-progress
expect_output "^analysis: (OK|[0-9]+ culprits?)" "run ends with the verdict"
DOC=$WORK/run/results.json
py_check "run wrote the analysis section" "$DOC" <<'PY'
import json, sys
assert json.load(open(sys.argv[1]))["analysis"]["version"] == 1
PY
# The recommendation files beside it, and the wrapper binding a rank as they say.
for f in nccl.env rankfile hostfile slurm.txt slurm-hostfile topobench-bind.sh drain.txt; do
  if [ -s "$WORK/run/$f" ]; then pass "run wrote $f"; else fail "run did not write $f"; fi
done
expect_output "^recommendations: 7 files written to $WORK/run" "run says where the files went"
expect_status 0 "the wrapper runs local rank 1" env OMPI_COMM_WORLD_LOCAL_RANK=1 \
  "$WORK/run/topobench-bind.sh" grep Cpus_allowed_list /proc/self/status
py_check "the wrapper bound it to its NUMA node's cores (placement)" "$DOC" "$WORK/out" <<'PY'
import json, sys
rec = json.load(open(sys.argv[1]))["analysis"]["recommendations"]
local = rec["placement"]["hosts"][0]["local"]
want = local[1]["cpuset"]
got = open(sys.argv[2]).read().split()[-1]
assert got == want, (got, want)
assert len(local) == 4 and rec["drain"] == [], rec
PY
expect_status 2 "the wrapper without a local rank" env -u OMPI_COMM_WORLD_LOCAL_RANK \
  -u SLURM_LOCALID -u MPI_LOCALRANKID -u PMI_LOCAL_RANK "$WORK/run/topobench-bind.sh" true
expect_output "no local rank in the environment" "says why"
expect_status 0 "report renders the files again" "$TB" report "$DOC" -o "$WORK/rep" -q
if [ -s "$WORK/rep/nccl.env" ] && [ -x "$WORK/rep/topobench-bind.sh" ]; then
  pass "report wrote nccl.env and the wrapper"; else fail "report did not write the files"; fi
expect_status 0 "run --no-analyze" tb_mpirun 2 "$TB" run -s quick -t latency -o "$WORK/noan" -q --no-progress --no-analyze
if grep -q "^analysis:" "$WORK/out"; then fail "--no-analyze printed a verdict"; else pass "--no-analyze prints no verdict"; fi
py_check "--no-analyze writes no analysis section" "$WORK/noan/results.json" <<'PY'
import json, sys
assert "analysis" not in json.load(open(sys.argv[1]))
PY
if [ -e "$WORK/noan/nccl.env" ]; then fail "--no-analyze wrote nccl.env"; else pass "--no-analyze writes no recommendation files"; fi
cp "$DOC" "$WORK/before.json"
expect_status 0 "analyze a real run" "$TB" analyze "$DOC"
expect_output "^analysis: (OK|[0-9]+ culprits?)" "verdict first"
expect_output "^analysis: written to $DOC" "says where the section went"
py_check "analysis section: version 1, every matrix cell judged, paths from ranks[]" "$DOC" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a = d["analysis"]
assert a["version"] == 1 and a["verdict"] in ("ok", "suspect"), a["verdict"]
sets = {(s["test"], s["metric"]): s for s in a["sets"]}
for m in ("recv_gbps", "send_gbps", "latency_us"):
    s = sets[("matrix", m)]
    assert s["cells_judged"] == 12 and len(s["cells"]) == 12, s["cells_judged"]
    for c in s["cells"]:
        assert c["path"] == "intra-node" and c["verdict"] in ("ok", "suspect", "unjudged"), c
# the other members are untouched
b = json.load(open(sys.argv[1].replace("run/results.json", "before.json")))
del d["analysis"], b["analysis"]
assert d == b
PY
# --json prints the section; --no-write leaves the file alone; analyze twice replaces it.
cp "$WORK/before.json" "$WORK/nowrite.json"
expect_status 0 "analyze --json --no-write" "$TB" analyze --json -n "$WORK/nowrite.json"
if cmp -s "$WORK/before.json" "$WORK/nowrite.json"; then pass "--no-write left the file alone"; else
  fail "--no-write changed the file"; fi
py_check "--json prints the section" "$WORK/out" <<'PY'
import json, sys
assert json.load(open(sys.argv[1]))["version"] == 1
PY
expect_status 0 "analyze again" "$TB" analyze "$DOC"

# A slow node: named, with its evidence, and the command that confirms it.
cp "$DATA/analysis/slow_node.json" "$WORK/slow.json"
expect_status 0 "analyze a slow node" "$TB" analyze "$WORK/slow.json" --program /opt/tb/topobench
expect_output "^analysis: 1 culprit " "one culprit"
expect_output "^  NODE n3: " "the node is named"
expect_output "14 of its 14 cells low" "its cells are cited"
expect_output "expected 23.5 GB/s, measured 0.4[0-9] of it \(n[0-9]: mlx5_0 port 1, IB HDR" "expected figure and its source"
expect_output "^  mpirun -np 8 --host n0:1,n1:1,n2:1,n3:1,n4:1,n5:1,n6:1,n7:1 --map-by slot /opt/tb/topobench run -t isolated --pairs [0-9]-[0-9](,[0-9]-[0-9])* -m 4194304\$" "confirmation command"
expect_status 0 "a stricter threshold" "$TB" analyze -n "$WORK/slow.json" --min-drop 0.6
expect_output "^analysis: 1 culprit " "at 0.40 of the model the node is still named (against the model)"
expect_output "[0-9]+ of its [0-9]+ under 0\.50 of their expected" \
  "by the node-against-the-model rule"
expect_status 0 "stricter thresholds" "$TB" analyze -n "$WORK/slow.json" --min-drop 0.6 --model-min 0.3
expect_output "^analysis: OK" "a 0.45x node passes a 60% minimum departure and a 0.3 model minimum"

# Bad input.
expect_status 2 "no file" "$TB" analyze
expect_status 2 "unknown option" "$TB" analyze --bogus "$DOC"
expect_status 2 "threshold out of range" "$TB" analyze -k 0 "$DOC"
expect_output "expected a number in" "the range is named"
expect_status 2 "missing file" "$TB" analyze "$WORK/none.json"
head -c 300 "$DOC" >"$WORK/trunc.json"
expect_status 3 "truncated document" "$TB" analyze "$WORK/trunc.json"
expect_output "trunc\.json:[0-9]+:[0-9]+: malformed JSON" "file:line:column named"
expect_status 3 "a matrix naming a rank the job lacks" "$TB" analyze "$DATA/analysis/bad_rank.json" -n
expect_output "rank 9 is not in ranks\[\]" "the rank is named"
if [ "$(id -u)" != 0 ]; then
  cp "$DOC" "$WORK/ro.json" && chmod a-w "$WORK" && {
    expect_status 4 "unwritable directory" "$TB" analyze "$WORK/ro.json"
    chmod u+w "$WORK"; }
fi
finish
