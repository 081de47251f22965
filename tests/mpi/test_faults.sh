#!/usr/bin/env bash
# The data check catches a corrupted transfer, the watchdog names a stuck rank, and the
# test-only fault switch does nothing without its confirmation.
. "$(dirname "$0")/common.sh"
CONFIRM=inject-faults-into-this-run
common=(--suite quick -e 4K -m 4K -T 5ms --no-progress -q)

# FAULT:TEST: the fault switch's target and the test it runs in (the matrices' and the
# isolated mode's latency checks are targeted as <test>_latency).
for ft in all_reduce:all_reduce latency:latency reduce_scatter:reduce_scatter \
  alltoall:alltoall matrix:matrix matrix_latency:matrix isolated:isolated \
  isolated_latency:isolated; do
  f=${ft%%:*} t=${ft#*:} pairs=()
  [ "$t" = isolated ] && pairs=(-p 0-1)
  expect_status 6 "corruption in $f is caught" \
    tb_mpirun 2 -x TOPOBENCH_TEST_FAULT=corrupt:$f:1 -x TOPOBENCH_TEST_FAULT_CONFIRM=$CONFIRM \
    "$TB" run "${common[@]}" -t "$t" "${pairs[@]}" -o "$WORK/c-$f"
  expect_output "data corruption: test '$t'.*size" "$f: the corruption is reported with test and size"
  py_check "$f: the error is in the document" "$WORK/c-$f/results.json" "$f" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); fault = sys.argv[2]
assert doc["status"] == "data corruption" and doc["exit_code"] == 6, doc["status"]
errs = [e for t in doc["tests"] for e in t["errors"]]
assert errs and all(e["rank"] == 1 and "offset" in e and "size" in e for e in errs), errs
if fault.endswith("_latency") or fault in ("matrix", "isolated"):
    want = "latency" if fault.endswith("_latency") else "bandwidth"
    assert all(e["measurement"] == want and e["from_rank"] == 0 for e in errs), errs
    assert all(e["size"] == (8 if want == "latency" else 4096) for e in errs), errs
if fault.startswith("isolated"):
    pairs = [t for t in doc["tests"] if t["name"] == "isolated"][0]["matrix"]["pairs"]
    assert len(pairs) == 1 and pairs[0]["wrong"] >= 1, pairs
PY
done

expect_status 0 "an unconfirmed fault switch is ignored" \
  tb_mpirun 2 -x TOPOBENCH_TEST_FAULT=corrupt:all_reduce:1 "$TB" run "${common[@]}" \
  -t all_reduce -o "$WORK/unconfirmed"
expect_output "not confirmed; ignored" "the unconfirmed switch is announced"

# A rank that hangs in bw: rank 0 waits on it, says so with host names, and the job
# ends with the timeout status while the latency results already measured stay.
start=$(date +%s)
expect_status 7 "a hung rank ends the job with the timeout status" \
  tb_mpirun 3 -x TOPOBENCH_TEST_FAULT=hang:bw:1 -x TOPOBENCH_TEST_FAULT_CONFIRM=$CONFIRM \
  "$TB" run "${common[@]}" -t latency,bw,all_reduce --timeout 2 -o "$WORK/hang"
elapsed=$(($(date +%s) - start))
expect_output "timeout: no progress for [0-9.]+ s in test 'bw' \(intra-node\) size 8.*waiting on rank 1 \(host " \
  "the watchdog names the test, size and the rank waited on"
expect_output "injected hang" "the stuck rank says it is not waiting on a peer"
if [ "$elapsed" -lt 60 ]; then pass "timeout fired promptly (${elapsed}s)"; else
  fail "timeout took ${elapsed}s"; fi
py_check "finished tests are kept, the running one is marked" "$WORK/hang/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "timeout" and doc["exit_code"] == 7 and doc["complete"] is False
st = {(t["name"], t["placement"] or t["level"] or t["dtype"]): t["status"] for t in doc["tests"]}
assert st[("latency", "intra-node")] == "ok", st
assert st[("bw", "intra-node")] == "timeout", st
lat = [t for t in doc["tests"] if t["name"] == "latency"][0]
assert [r["size"] for r in lat["results"]] == [8, 32, 128, 512, 2048, 4096], lat["results"]
PY
finish
