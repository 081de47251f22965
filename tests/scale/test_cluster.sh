#!/usr/bin/env bash
# The analyzer at scale (issue 9 point 7): tb_gen_cluster writes a simulated cluster of
# NODES x 8 ranks (node and rank matrices, p2p, collectives, every node's topology; 5%
# noise) with injected faults (3 slow links, 1 one-way link, 1 slow node, 1 node with a
# NIC at half rate, 1 node with another topology), and `topobench analyze` must name
# every fault and nothing else: its culprits, as (kind, subject), are exactly the ones
# faults.json expects, each with its evidence. The same cluster without faults must be
# OK, and `topobench report` must render the document.
# Usage: bash test_cluster.sh TOPOBENCH TB_GEN_CLUSTER [NODES]   (exit 0 pass, 1 fail)
set -u
TB=${1:?usage: test_cluster.sh TOPOBENCH TB_GEN_CLUSTER [NODES]}
GEN=${2:?usage: test_cluster.sh TOPOBENCH TB_GEN_CLUSTER [NODES]}
NODES=${3:-16}
# shellcheck source=tests/mpi/common.sh
. "$(dirname "$0")/../mpi/common.sh" "$TB"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }

D=$WORK/cluster
expect_status 0 "generate $NODES nodes x 8 ranks with faults" "$GEN" "$D" -n "$NODES"
if [ -f "$D/matrix-rank-recv_gbps.npy" ]; then pass "the rank matrix is an .npy side file"; else
  fail "no matrix-rank-recv_gbps.npy in $D"; fi
expect_status 0 "analyze" "$TB" analyze "$D/results.json" --program topobench
cp "$WORK/out" "$WORK/analyze.txt"
expect_output "^analysis: 7 culprits " "seven culprits, the verdict first"
py_check "the culprits are exactly the injected faults, each with its evidence" \
  "$D/results.json" "$D/faults.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
truth = json.load(open(sys.argv[2]))
a = doc["analysis"]
got = {(c["kind"], c["subject"]) for c in a["culprits"]}
want = {(c["kind"], c["subject"]) for c in truth["expected_culprits"]}
print("missed:", sorted(want - got))
print("named but not injected:", sorted(got - want))
assert got == want
assert a["verdict"] == "suspect"
for c in a["culprits"]:
    assert c["evidence"], c["subject"]
    if c["kind"] == "topology":
        ev = c["evidence"][0]
        assert any("GPU count 7" in m for m in ev["node_differs"]), ev
        assert ev["measured"], ev  # how it measured against the other nodes
        continue
    for ev in c["evidence"]:
        assert ev["cells"] and ev["peer_median"] > 0 and ev["measured"] < ev["peer_median"], ev
    assert c["confirm_pairs"], c["subject"]
half = [f["node"] for f in truth["faults"] if f["fault"] == "NIC at half rate"][0]
node = [c for c in a["culprits"] if c["kind"] == "node" and c["subject"] == half][0]
facts = " ".join(node["topology"])
assert "ib_port_slow" in facts and "node_differs" in facts, facts
# the network cells of the rank matrix are judged against the model's shared port figure
sets = {(s["test"], s["metric"]): s for s in a["sets"]}
net = [k for k in sets[("matrix", "recv_gbps")]["classes"] if k["path"] == "NET"][0]
assert net["expected_gbps"] and "shared in shift round" in net["expected_source"], net
PY

C=$WORK/clean
expect_status 0 "generate the same cluster without faults" "$GEN" "$C" -n "$NODES" --no-faults
expect_status 0 "analyze it" "$TB" analyze "$C/results.json"
expect_output "^analysis: OK: no culprit among" "no fault, no culprit"

expect_status 0 "report every file of the faulty cluster's document" \
  "$TB" report "$D/results.json" -o "$WORK/report"
if ls "$WORK/report"/*.csv >/dev/null 2>&1; then pass "report wrote its CSV files"; else
  fail "report wrote no CSV file"; fi
echo "--- analyze's output:"
head -40 "$WORK/analyze.txt"
finish
