#!/usr/bin/env bash
# The virtual cluster with two ranks per node: the inter-node point-to-point pairs and
# the collectives run across nodes, the rank and node matrices have the right shapes,
# every node's topology is recorded, and a node whose topology differs from the others
# (node2 given a recorded 8-GPU p4d topology through TOPOBENCH_TOPO_FILE=%h) is reported
# as a heterogeneity finding naming it, and as the analysis's one culprit.
# Usage: bash test_multinode.sh /path/to/topobench   (exit 0 pass, 1 fail, 77 skip)
set -u
TB=${1:?usage: test_multinode.sh /path/to/topobench}
# shellcheck source=tests/vcluster/vcluster.sh
. "$(dirname "$0")/vcluster.sh"

NODES=3
FIXTURE=${TB_FIXTURES_DIR:-$(dirname "$0")/../../../shared/fixtures}/nccl_topo_xml/aws-ofi-nccl_p4d-24xl-topo.xml

if ! why=$(vc_check); then
    echo "SKIP: $why"
    exit 77
fi
[ -x "$TB" ] || { echo "FAIL: $TB is not an executable"; exit 1; }
[ -f "$FIXTURE" ] || { echo "SKIP: fixture $FIXTURE not found"; exit 77; }

vc_reap
vc_create "$NODES" || { echo "FAIL: could not build the virtual cluster"; exit 1; }
mkdir -p "$VC_DIR/topo"
cp "$FIXTURE" "$VC_DIR/topo/node2.xml" # only node2 has a recorded topology

out="$VC_DIR/out"
VC_NP=$((2 * NODES)) VC_MAP=ppr:2:node VC_TIMEOUT=300 vc_mpirun \
    -x "TOPOBENCH_TOPO_FILE=$VC_DIR/topo/%h.xml" \
    "$TB" run --suite quick -t latency,bw,all_reduce,matrix,node_matrix -e 64K -m 256K \
    -T 10ms --timeout 120 --no-progress -q -o "$out" >"$VC_DIR/mpirun.log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -f "$out/results.json" ]; then
    echo "FAIL: topobench across the virtual cluster ended with status $rc"
    tail -40 "$VC_DIR/mpirun.log"
    exit 1
fi

python3 - "$out/results.json" "$NODES" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); n = int(sys.argv[2])
fails = []
def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        fails.append(what)

check(doc["status"] == "success", f"status {doc['status']}")
check(doc["run"]["nnodes"] == n and doc["run"]["nranks"] == 2 * n,
      f"{doc['run']['nranks']} ranks on {doc['run']['nnodes']} nodes")
hosts = {h["name"]: h for h in doc["hosts"]}
check(sorted(hosts) == [f"node{k}" for k in range(n)], f"hosts {sorted(hosts)}")
check(all(len(h["ranks"]) == 2 for h in hosts.values()), "two ranks per node")
tests = {(t["name"], t["placement"] or t["level"] or t["dtype"]): t for t in doc["tests"]}
for name in ("latency", "bw"):
    for variant in ("intra-node", "inter-node"):
        t = tests.get((name, variant))
        check(t is not None and t["status"] == "ok" and len(t["results"]) > 0,
              f"{name} {variant} measured")
inter = tests[("latency", "inter-node")]["params"]["hosts"]
check(inter[0] != inter[1], f"the inter-node pair spans two hosts: {inter}")
intra = tests[("latency", "intra-node")]["params"]["hosts"]
check(intra[0] == intra[1], f"the intra-node pair shares a host: {intra}")
check(tests[("all_reduce", "float")]["status"] == "ok", "all_reduce across nodes")
m = tests[("matrix", "rank")]["matrix"]
check(len(m["recv_gbps"]) == 2 * n and m["rounds"] == 2 * n - 1,
      f"rank matrix {len(m['recv_gbps'])} x {len(m['recv_gbps'])}, {m['rounds']} rounds")
nm = tests[("node_matrix", "node")]["matrix"]
check(len(nm["recv_gbps"]) == n and [l.split(":")[0] for l in nm["labels"]] ==
      [f"node{k}" for k in range(n)], f"node matrix labels {nm['labels']}")
for name, h in sorted(hosts.items()):
    t = h["topology"]
    check(t is not None, f"{name}: topology recorded")
    if t is None:
        continue
    want = ("nccl-xml", 8) if name == "node2" else ("live", 0)
    check((t["source"], t["gpus"]) == want, f"{name}: topology from {t['source']} with {t['gpus']} GPUs")
differs = [f for f in doc["findings"] if f["code"] == "node_differs"]
check(len(differs) >= 1 and all(f["host"] == "node2" for f in differs),
      f"heterogeneity: {[(f['host'], f['message']) for f in differs]}")
# the analyzer (issue 9): nothing is shaped, so the one culprit is node2's recorded
# topology (it differs), named as such; the 6 ranks share one kernel's 2 cores, so
# latency names nothing (a note says so)
a = doc.get("analysis") or {}
named = sorted((c["kind"], c["subject"]) for c in a.get("culprits", []))
print(f"analysis: verdict {a.get('verdict')}, culprits {named}")
for c in a.get("culprits", []):
    for ev in c.get("evidence", []):
        print(f"  {c['kind']} {c['subject']}: {ev.get('message')}")
check(named == [("topology", "node2")], f"the analysis names node2's topology and nothing else: {named}")
print(f"{len(fails)} failed")
sys.exit(1 if fails else 0)
PY
rc=$?
[ $rc -eq 0 ] && echo "PASS: inter-node tests and heterogeneity across the virtual cluster"
exit $rc
