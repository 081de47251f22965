#!/usr/bin/env bash
# The virtual cluster with two slow nodes at different rates: 5 namespace "nodes" on a
# bridge, one rank per node, node 3's link shaped to 200 Mbit/s and node 1's to 600 Mbit/s,
# both ways. topobench's 1 MiB node matrix must see the 5 nodes by their own host names,
# measure the pairs of each shaped node near its shaped rate (the pair of the two shaped
# nodes at the slower one), put every cell of either shaped node clearly below the healthy
# pairs' median (under half) and every 600 Mbit cell above every 200 Mbit cell, in both the
# receive and the send matrix; and the analyzer the run ends with must name the two shaped
# nodes, and no other, as its verdict; the report.html it wrote, opened in Chromium where it
# is installed, names them in its banner. 5 ranks share the machine's cores: the waiting
# ranks must not starve the ones moving data (see bench/matrix.c).
# Usage: bash test_shaped_nodes.sh /path/to/topobench   (exit 0 pass, 1 fail, 77 skip)
set -u
TB=${1:?usage: test_shaped_nodes.sh /path/to/topobench}
# shellcheck source=tests/vcluster/vcluster.sh
. "$(dirname "$0")/vcluster.sh"

NODES=5
SLOW=3 SLOW_MBIT=200
MID=1 MID_MBIT=600
# Jumbo frames, as cluster fabrics use them: TCP over a veth costs CPU per packet, and at
# 1500 bytes the healthy pairs of a loaded 2-core machine were CPU-bound down to the
# 600 Mbit node's rate; with 9000 they ran twice as fast under the same load.
export VC_MTU=9000
# What TCP can carry through a token bucket of RATE bits/s: tbf counts whole frames, and
# a frame of MTU bytes (MTU + 14 with the Ethernet header) carries MTU - 52 bytes of
# payload (IP 20 + TCP 32 with timestamps). At 9000: 200 Mbit/s -> 0.02482 GB/s, 600 ->
# 0.07445. See docs/vcluster.md.
rate_gbps() { python3 -c "print($1 * 1e6 / 8 / 1e9 * ($VC_MTU - 52) / ($VC_MTU + 14))"; }
# A cell may read up to 25% above its rate (tbf's burst) and 40% below it: the machine's
# cores are shared by 5 ranks (and whatever else runs), and a repetition whose rank was
# descheduled counts in the mean; 200 Mbit cells measured 0.72-1.0 of the rate here
# with a load average of 10 on 2 cores. The separation checks carry the verdict.
TOL_HI=0.25 TOL_LO=0.40

if ! why=$(vc_check); then
    echo "SKIP: $why"
    exit 77
fi
[ -x "$TB" ] || { echo "FAIL: $TB is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }

start=$(date +%s)
vc_reap # namespaces left by runs that were killed outright (SIGKILL, ctest timeout)
vc_create "$NODES" || { echo "FAIL: could not build the virtual cluster"; exit 1; }
# The bucket holds 4 ms at the rate (a 250 Hz kernel's tick; at least 64 KB): a smaller
# one (64 KB is 7 jumbo frames) empties between the qdisc's wake-ups and held the
# 600 Mbit node to 0.58-0.75 of its rate on an idle machine. 4 ms of a 16 MiB window
# is under 2% above the rate.
burst_kb() { echo $(($1 * 1000000 / 8 * 4 / 1000 / 1024 > 64 ? $1 * 1000000 / 8 * 4 / 1000 / 1024 : 64)); }
vc_shape "$SLOW" "${SLOW_MBIT}mbit" "$(burst_kb $SLOW_MBIT)kb" ||
    { echo "FAIL: could not shape node$SLOW"; exit 1; }
vc_shape "$MID" "${MID_MBIT}mbit" "$(burst_kb $MID_MBIT)kb" ||
    { echo "FAIL: could not shape node$MID"; exit 1; }

out="$VC_DIR/out"
VC_TIMEOUT=300 vc_mpirun "$TB" run --tests node_matrix --matrix-size 1M --time-budget 1s \
    --timeout 120 --no-progress -o "$out" >"$VC_DIR/mpirun.log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -f "$out/results.json" ]; then
    echo "FAIL: topobench across the virtual cluster ended with status $rc"
    tail -40 "$VC_DIR/mpirun.log"
    exit 1
fi

python3 - "$out/results.json" "$NODES" "$SLOW" "$(rate_gbps $SLOW_MBIT)" "$MID" \
    "$(rate_gbps $MID_MBIT)" "$TOL_HI" "$TOL_LO" <<'PY'
import json, statistics, sys
doc = json.load(open(sys.argv[1]))
n, slow, slow_bw, mid, mid_bw = (int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),
                                 int(sys.argv[5]), float(sys.argv[6]))
tol_hi, tol_lo = float(sys.argv[7]), float(sys.argv[8])
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
keys = ("recv_gbps", "send_gbps", "recv_cv", "send_cv")
check(all(len(m[k]) == n and all(len(row) == n for row in m[k]) for k in keys),
      f"{', '.join(keys)} are {n} x {n}")
if fails:
    sys.exit(1)
labels = m["labels"]
node = [int(lab.split(":")[0].removeprefix("node")) for lab in labels]
def group(i, j):
    if slow in (node[i], node[j]):
        return "slow"
    return "mid" if mid in (node[i], node[j]) else "healthy"

print(f"\nnode matrix at {m['size']} bytes, a window of {m['window']} per pair, "
      f"{m['rounds']} rounds in {m['elapsed_s']:.1f} s, repetitions {m['repetitions']}; "
      f"node{slow} shaped to {slow_bw:.4f} GB/s, node{mid} to {mid_bw:.4f} GB/s")
for key in ("recv_gbps", "send_gbps"):
    bw, cv = m[key], m[key.replace("gbps", "cv")]
    cells = {"slow": [], "mid": [], "healthy": []}
    for i in range(n):
        for j in range(n):
            if i == j:
                check(bw[i][j] is None, f"{key}: diagonal [{i}][{i}] is null")
            elif bw[i][j] is None:
                check(False, f"{key}: {labels[i]} -> {labels[j]} has no value")
            else:
                cells[group(i, j)].append(bw[i][j])
    if any(not v for v in cells.values()):
        check(False, f"{key}: cells missing")
        continue
    med = statistics.median(cells["healthy"])
    print(f"\n{key} (GB/s; spread in %), then each cell / the healthy pairs' median "
          f"{med:.4f} GB/s (row sends to column)")
    print(" " * 9 + "".join(f"{lab:>16}" for lab in labels))
    for i in range(n):
        row = "".join(f"{'-':>16}" if i == j else f"{bw[i][j]:9.4f} ({100 * cv[i][j]:3.0f}%)"
                      for j in range(n))
        print(f"{labels[i]:>9}{row}")
    print(" " * 9 + "".join(f"{lab:>16}" for lab in labels))
    for i in range(n):
        row = "".join(f"{'-':>16}" if i == j else f"{bw[i][j] / med:16.3f}" for j in range(n))
        print(f"{labels[i]:>9}{row}")
    lo, hi = min, max
    for g, want in (("slow", slow_bw), ("mid", mid_bw)):
        v = cells[g]
        print(f"{key} {g}: {lo(v):.4f}..{hi(v):.4f} GB/s = {lo(v) / med:.3f}..{hi(v) / med:.3f} "
              f"of the healthy median")
        check(hi(v) < 0.5 * med, f"{key}: every {g} cell (max {hi(v):.4f}) under half the "
              f"healthy median {med:.4f}")
        if key == "recv_gbps":
            # The send side completes when the data is handed to TCP, so its rate is read
            # at the receiver only.
            check(all(1 - tol_lo <= x / want <= 1 + tol_hi for x in v),
                  f"{key}: {g} cells {lo(v):.4f}..{hi(v):.4f} within -{100 * tol_lo:.0f}%.."
                  f"+{100 * tol_hi:.0f}% of {want:.4f} GB/s")
    check(min(cells["mid"]) > max(cells["slow"]),
          f"{key}: every 600 Mbit cell (min {min(cells['mid']):.4f}) above every 200 Mbit cell "
          f"(max {max(cells['slow']):.4f})")
    print(f"{key} healthy: {min(cells['healthy']):.4f}..{max(cells['healthy']):.4f} GB/s")
# The run ends with the analyzer (rank 0, on the final document, default thresholds): its
# verdict must name the shaped nodes, each with a node verdict, and no other node.
a = doc.get("analysis")
check(isinstance(a, dict) and a.get("version") == 1, "the run wrote its analysis section")
if isinstance(a, dict):
    shaped = {f"node{slow}", f"node{mid}"}
    named = sorted((c["kind"], c["subject"]) for c in a["culprits"])
    hosts = {h for c in a["culprits"] for h in c["hosts"]}
    print(f"\nanalysis: verdict {a['verdict']}, culprits {named}")
    for c in a["culprits"]:
        for ev in c["evidence"]:
            print(f"  {c['kind']} {c['subject']}: {ev.get('message', '')}")
    check(a["verdict"] == "suspect", f"the verdict is 'suspect' ({a['verdict']})")
    check(all(("node", h) in named for h in shaped),
          f"a node verdict for each shaped node ({', '.join(sorted(shaped))})")
    check(hosts == shaped, f"the culprits name the shaped nodes and no other: {sorted(hosts)}")
print(f"{len(fails)} failed")
sys.exit(1 if fails else 0)
PY
verdict=$?
# The report the run wrote beside its results, in headless Chromium where it is installed
# (tests/browser/check_report.py): no console error or request, every section, both shaped
# nodes named in the banner, the hover of a cell of the slow node's row; its screenshot is
# the README's (docs/img/report-vcluster-run.png).
if command -v chromium >/dev/null 2>&1; then
    shots=${TB_BROWSER_OUT:-$PWD/browser-reports}
    mkdir -p "$shots"
    if python3 "$(dirname "$0")/../browser/check_report.py" "$out/report.html" \
        --png "$shots/vcluster-shaped-nodes.png" --absent-element script --culprit "node$SLOW" \
        --culprit "node$MID" --text SUSPECT --hover "0:$SLOW:0:node$SLOW:$SLOW -> node0:0: "; then
        echo "ok: the run's report.html opens cleanly in chromium and names both shaped nodes"
    else
        echo "FAIL: the run's report.html in chromium (above)"
        verdict=1
    fi
else
    echo "(the run's report.html not opened: chromium is not installed)"
fi
echo "wall time $(($(date +%s) - start)) s"
if [ $verdict -eq 0 ]; then echo "PASS: both shaped nodes stand out and the analyzer names them"; else
    echo "FAIL: see above"; tail -20 "$VC_DIR/mpirun.log"; fi
exit $verdict
