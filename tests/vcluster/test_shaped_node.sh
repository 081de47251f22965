#!/usr/bin/env bash
# The virtual cluster with one slow node: 3 namespace "nodes" on a bridge, one rank per
# node, node 2's link shaped to 200 Mbit/s both ways. topobench's node matrix must see 3
# nodes by their own host names, measure every pair that involves node 2 at the shaped
# rate (within 25%), and every other pair at least twice as fast.
# Usage: bash test_shaped_node.sh /path/to/topobench   (exit 0 pass, 1 fail, 77 skip)
set -u
TB=${1:?usage: test_shaped_node.sh /path/to/topobench}
# shellcheck source=tests/vcluster/vcluster.sh
. "$(dirname "$0")/vcluster.sh"

NODES=3
SHAPED=2
RATE_MBIT=200
# What TCP can carry through a token bucket of RATE bits/s: tbf counts whole frames, and
# a 1500-byte-MTU frame (1514 bytes with the Ethernet header) carries 1448 bytes of
# payload (IP 20 + TCP 32 with timestamps). 200 Mbit/s -> 0.02391 GB/s; measured here
# 0.021-0.024 GB/s (slow start and the barrier skew of a single 4 MiB message cost a
# little more). See docs/vcluster.md.
EXPECT_GBPS=$(python3 -c "print($RATE_MBIT * 1e6 / 8 / 1e9 * 1448 / 1514)")
TOLERANCE=0.25

if ! why=$(vc_check); then
    echo "SKIP: $why"
    exit 77
fi
[ -x "$TB" ] || { echo "FAIL: $TB is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }

start=$(date +%s)
vc_reap # namespaces left by runs that were killed outright (SIGKILL, ctest timeout)
vc_create "$NODES" || { echo "FAIL: could not build the virtual cluster"; exit 1; }
vc_shape "$SHAPED" "${RATE_MBIT}mbit" || { echo "FAIL: could not shape node$SHAPED"; exit 1; }

out="$VC_DIR/out"
VC_TIMEOUT=300 vc_mpirun "$TB" run --tests node_matrix --matrix-size 4M --time-budget 1s --timeout 120 \
    --no-progress -o "$out" >"$VC_DIR/mpirun.log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -f "$out/results.json" ]; then
    echo "FAIL: topobench across the virtual cluster ended with status $rc"
    tail -40 "$VC_DIR/mpirun.log"
    exit 1
fi

python3 - "$out/results.json" "$NODES" "$SHAPED" "$EXPECT_GBPS" "$TOLERANCE" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
n, shaped, expect, tol = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
fails = []
def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        fails.append(what)

names = [f"node{k}" for k in range(n)]
check(doc["run"]["nnodes"] == n, f"run.nnodes = {doc['run']['nnodes']}, expected {n}")
hosts = [h["name"] for h in doc["hosts"]]
check(sorted(hosts) == names, f"hosts[] = {hosts}, expected the {n} node names")
seen = {r["rank"]: r["host"] for r in doc["ranks"]}
check(seen == {k: f"node{k}" for k in range(n)},
      f"each rank reports its own node's host name: {seen}")
nm = [t for t in doc["tests"] if t["name"] == "node_matrix"]
check(len(nm) == 1 and nm[0]["status"] == "ok",
      f"node_matrix ran: {[t['status'] for t in nm]}")
if fails:
    sys.exit(1)
m = nm[0]["matrix"]
bw, labels = m["bandwidth_gbps"], m["labels"]
check(len(bw) == n and all(len(row) == n for row in bw), f"matrix is {n} x {n}")
if fails:
    sys.exit(1)
# Row/column index -> node, from the labels ("host:rank").
node = [int(lab.split(":")[0].removeprefix("node")) for lab in labels]

print(f"\nnode matrix, GB/s, {m['size']} bytes, {m['rounds']} rounds in {m['elapsed_s']:.2f} s "
      f"(row sends to column); node{shaped} shaped, expected {expect:.4f} GB/s")
print(" " * 10 + "".join(f"{lab:>12}" for lab in labels))
for i in range(n):
    cells = "".join(f"{'-':>12}" if bw[i][j] is None else f"{bw[i][j]:12.4f}" for j in range(n))
    print(f"{labels[i]:>10}{cells}")
print()

lo, hi = expect * (1 - tol), expect * (1 + tol)
slow, fast = [], []
for i in range(n):
    for j in range(n):
        if i == j:
            check(bw[i][j] is None, f"diagonal [{i}][{i}] is null")
            continue
        v = bw[i][j]
        pair = f"{labels[i]} -> {labels[j]}"
        if v is None:
            check(False, f"{pair}: no value")
        elif shaped in (node[i], node[j]):
            slow.append(v)
            check(lo <= v <= hi, f"{pair} (shaped): {v:.4f} GB/s within {lo:.4f}..{hi:.4f}")
        else:
            fast.append(v)
            check(v >= 2 * expect, f"{pair}: {v:.4f} GB/s at least twice the shaped {expect:.4f}")
if slow and fast:
    print(f"\nshaped pairs {min(slow):.4f}..{max(slow):.4f} GB/s, "
          f"other pairs {min(fast):.4f}..{max(fast):.4f} GB/s")
sys.exit(1 if fails else 0)
PY
verdict=$?
echo "wall time $(($(date +%s) - start)) s"
if [ $verdict -eq 0 ]; then echo "PASS: the shaped node shows in the node matrix"; else
    echo "FAIL: see above"; tail -20 "$VC_DIR/mpirun.log"; fi
exit $verdict
