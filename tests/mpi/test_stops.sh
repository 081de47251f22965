#!/usr/bin/env bash
# A stopped rank is recorded whichever it is (timeout naming the rank that did not
# arrive, also when rank 0 is a bystander or is the stopped one), as are a failed call on
# another rank and an allocation that fails on one rank (agreed, exit 4, no watchdog).
. "$(dirname "$0")/common.sh"
F=(-x TOPOBENCH_TEST_FAULT_CONFIRM=inject-faults-into-this-run)
common=(-e 4K -m 4K -T 5ms --no-progress -q)

doc_check() { # doc_check DESC DIR python...
  local desc=$1 dir=$2
  shift 2
  py_check "$desc" "$dir/results.json" "$@"
}

# 1. A stopped rank (SIGSTOP: its watchdog stops with it) in the all-pairs matrix: the
# others wait on each other in a chain; the message names rank 3, the one that did not arrive.
expect_status 7 "a stopped rank 3 in the matrix ends the job with the timeout status" \
  tb_mpirun 4 -x TOPOBENCH_TEST_FAULT=stop:matrix:3 "${F[@]}" "$TB" run "${common[@]}" \
  -t latency,matrix --timeout 2 -o "$WORK/stop-matrix"
expect_output "timeout: rank 3 \(host [^)]*\) did not arrive" "the hang message names rank 3"
doc_check "stopped rank 3: the document names it and keeps latency" "$WORK/stop-matrix" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "timeout" and doc["ending"]["stalled_ranks"] == [3], doc["ending"]
st = {t["name"]: t["status"] for t in doc["tests"]}
assert st == {"latency": "ok", "matrix": "timeout"}, st
PY

# 2. A collective names the missing rank too, not only "waiting in a collective".
expect_status 7 "a stopped rank 2 in all_gather: timeout" \
  tb_mpirun 4 -x TOPOBENCH_TEST_FAULT=stop:all_gather:2 "${F[@]}" "$TB" run "${common[@]}" \
  -t all_gather --timeout 2 -o "$WORK/stop-coll"
expect_output "timeout: rank 2 \(host [^)]*\) did not arrive.*waiting in a collective" \
  "the collective's hang message names rank 2"
doc_check "stopped rank 2 in a collective is in the document" "$WORK/stop-coll" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["ending"]["stalled_ranks"] == [2], doc["ending"]
PY

# 3. Rank 0 a bystander (isolated mode: it polls while the pair 1-2 measures): rank 1
# reports, rank 0 records.
expect_status 7 "a stopped rank in an isolated pair while rank 0 waits aside: timeout" \
  tb_mpirun 3 -x TOPOBENCH_TEST_FAULT=stop:isolated:2 "${F[@]}" "$TB" run "${common[@]}" \
  -t isolated -p 1-2 --timeout 2 -o "$WORK/stop-iso"
doc_check "rank 0 as a bystander records the timeout" "$WORK/stop-iso" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "timeout" and doc["ending"]["stalled_ranks"] == [2], doc.get("ending")
assert [t["status"] for t in doc["tests"]] == ["timeout"], doc["tests"]
PY

# 4. Rank 0 itself stopped: a rank on its node records the timeout in the document rank 0
# last saved.
expect_status 7 "rank 0 stopped: timeout" \
  tb_mpirun 3 -x TOPOBENCH_TEST_FAULT=stop:all_reduce:0 "${F[@]}" "$TB" run "${common[@]}" \
  -t latency,all_reduce --timeout 2 -o "$WORK/stop-0"
expect_output "rank 0 \(host [^)]*\) did not answer" "the others say rank 0 did not answer"
doc_check "a stopped rank 0 is recorded by another rank" "$WORK/stop-0" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "timeout" and doc["exit_code"] == 7, doc["status"]
assert doc["ending"]["stalled_ranks"] == [0], doc["ending"]
assert [t["status"] for t in doc["tests"]][:1] == ["ok"], doc["tests"]
PY

# 5. A failed call on rank 1 inside a measurement ends the job (MPI_Abort from the main
# thread), and rank 0 records it first.
expect_status 1 "an injected failed call on rank 1: internal error" \
  tb_mpirun 2 -x TOPOBENCH_TEST_FAULT=fail:all_reduce:1 "${F[@]}" "$TB" run "${common[@]}" \
  -t latency,all_reduce --timeout 20 -o "$WORK/fail"
doc_check "the failed call is in the document" "$WORK/fail" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "internal error" and doc["exit_code"] == 1, doc["status"]
assert "rank 1 " in doc["ending"]["message"], doc["ending"]
st = {t["name"]: t["status"] for t in doc["tests"]}
assert st["latency"] == "ok" and st["all_reduce"] == "internal error", st
PY

# 6. Out of memory on one rank is agreed by all: status 4 at once, not a timeout after
# mismatched collectives.
start=$(date +%s)
expect_status 4 "out of memory on rank 1 ends the run with the environment status" \
  tb_mpirun 3 -x TOPOBENCH_TEST_FAULT=oom:all_reduce:1 "${F[@]}" "$TB" run "${common[@]}" \
  -t all_reduce --timeout 120 -o "$WORK/oom"
elapsed=$(($(date +%s) - start))
if [ "$elapsed" -lt 100 ]; then pass "agreed without the watchdog (${elapsed}s)"; else
  fail "out of memory took ${elapsed}s (the watchdog?)"; fi
expect_output "out of memory for [0-9]+ iteration times" "the allocation failure is said"
doc_check "the document says environment error" "$WORK/oom" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "environment error" and doc["exit_code"] == 4, doc["status"]
PY

finish
