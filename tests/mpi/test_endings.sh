#!/usr/bin/env bash
# Every ending is recorded in results.json: a signal (interrupted, exit 8), a stopped
# rank whichever it is (timeout naming the rank that did not arrive, also when rank 0 is
# a bystander or is the stopped one), a failed call on another rank, an allocation that
# fails on one rank (agreed, exit 4, no watchdog), results inside a test that survive a
# kill, and no false timeout while rank 0 writes slowly.
. "$(dirname "$0")/common.sh"
F=(-x TOPOBENCH_TEST_FAULT_CONFIRM=inject-faults-into-this-run)
common=(-e 4K -m 4K -T 5ms --no-progress -q)

# wait_for DOC PYEXPR SECONDS: until the document satisfies the expression on `doc`.
wait_for() {
  local doc=$1 expr=$2 limit=$3 i
  for ((i = 0; i < limit * 5; i++)); do
    python3 - "$doc" "$expr" 2>/dev/null <<'PY' && return 0
import json, sys
doc = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
    sleep 0.2
  done
  return 1
}

# rank_pid MPIRUN_PID RANK: the process of that rank (a child of mpirun here). The
# background runs call mpirun directly so that $! is mpirun.
rank_pid() {
  local c
  for c in $(pgrep -P "$1"); do
    if { tr '\0' '\n' <"/proc/$c/environ"; } 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
      echo "$c"
      return
    fi
  done
}

doc_check() { # doc_check DESC DIR python...
  local desc=$1 dir=$2
  shift 2
  py_check "$desc" "$dir/results.json" "$@"
}

# 1. Ctrl-C at mpirun: mpirun sends every rank SIGTERM (then SIGKILL a second later);
# rank 0 saves the document as interrupted and the CSV files of what finished. mpirun's
# own exit status is 1 whatever the ranks return (its convention), so only non-zero here.
out="$WORK/int"
mpirun --oversubscribe -np 2 "$TB" run -b 8 -e 4K -f 4 -T 0.5s --no-progress -q -t latency,bw \
  -o "$out" >"$WORK/out" 2>&1 &
pid=$!
if wait_for "$out/results.json" 'doc["tests"] and doc["tests"][0]["status"] == "ok"' 60; then
  kill -INT $pid
fi
wait $pid
rc=$?
if [ "$rc" -ne 0 ]; then pass "Ctrl-C at mpirun ends the job non-zero ($rc)"; else fail "Ctrl-C: exit 0"; fi
doc_check "Ctrl-C: the document says interrupted and keeps the finished test" "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "interrupted" and doc["exit_code"] == 8 and doc["complete"] is False, doc["status"]
assert "SIGTERM" in doc["ending"]["message"] or "SIGINT" in doc["ending"]["message"], doc["ending"]
st = {t["name"]: t["status"] for t in doc["tests"]}
assert st["latency"] == "ok" and st.get("bw", "interrupted") == "interrupted", st
PY
if [ -s "$out/latency-intra-node.csv" ] && [ -s "$out/summary.csv" ]; then
  pass "Ctrl-C: the CSV files of what finished are written"
else fail "Ctrl-C: CSV files missing: $(ls "$out")"; fi

# 2. SIGTERM to one rank only (as a batch system or an administrator sends it): that
# rank tells rank 0, which records it; every rank exits 8 and so does mpirun.
out="$WORK/term"
mpirun --oversubscribe -np 3 "$TB" run -b 8 -e 4K -f 4 -T 0.5s --no-progress -q \
  -t latency,bw,bibw -o "$out" >"$WORK/out" 2>&1 &
pid=$!
if wait_for "$out/results.json" 'doc["tests"] and doc["tests"][0]["status"] == "ok"' 60; then
  for try in 1 2 3 4 5; do
    victim=$(rank_pid $pid 2)
    [ -n "$victim" ] && break
    sleep 0.2
  done
  kill -TERM "$victim"
fi
wait $pid
rc=$?
if [ "$rc" = 8 ]; then pass "SIGTERM to rank 2: exit 8"; else fail "SIGTERM to rank 2: exit $rc"; tail -20 "$WORK/out"; fi
doc_check "SIGTERM to rank 2: the document says which rank was interrupted" "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "interrupted" and doc["exit_code"] == 8, doc["status"]
assert "rank 2 " in doc["ending"]["message"] and "SIGTERM" in doc["ending"]["message"], doc["ending"]
PY

# 3. A stopped rank (SIGSTOP: its watchdog stops with it) in the all-pairs matrix: the
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

# 4. A collective names the missing rank too, not only "waiting in a collective".
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

# 5. Rank 0 a bystander (isolated mode: it polls while the pair 1-2 measures): rank 1
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

# 6. Rank 0 itself stopped: a rank on its node records the timeout in the document rank 0
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

# 7. A failed call on rank 1 inside a measurement ends the job (MPI_Abort from the main
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

# 8. Out of memory on one rank is agreed by all: status 4 at once, not a timeout after
# mismatched collectives.
start=$(date +%s)
expect_status 4 "out of memory on rank 1 ends the run with the environment status" \
  tb_mpirun 3 -x TOPOBENCH_TEST_FAULT=oom:all_reduce:1 "${F[@]}" "$TB" run "${common[@]}" \
  -t all_reduce --timeout 30 -o "$WORK/oom"
elapsed=$(($(date +%s) - start))
if [ "$elapsed" -lt 25 ]; then pass "agreed without the watchdog (${elapsed}s)"; else
  fail "out of memory took ${elapsed}s (the watchdog?)"; fi
expect_output "out of memory for [0-9]+ iteration times" "the allocation failure is said"
doc_check "the document says environment error" "$WORK/oom" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "environment error" and doc["exit_code"] == 4, doc["status"]
PY

# 9. Sizes finished inside a test survive a kill: the document is rewritten every few
# seconds during a test, not only after it.
out="$WORK/kill"
mpirun --oversubscribe -np 2 "$TB" run -b 8 -e 4K -f 2 -T 1s --no-progress -q -t latency \
  -o "$out" >"$WORK/out" 2>&1 &
pid=$!
if wait_for "$out/results.json" \
  'doc["tests"] and doc["tests"][0]["status"] == "running" and len(doc["tests"][0]["results"]) >= 2' 40
then pass "results of the running test reach the disk during the test"; else
  fail "no result of the running test on disk during it"; fi
for c in $(pgrep -P $pid); do kill -KILL "$c"; done
wait $pid
doc_check "after SIGKILL the document keeps the sizes measured" "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = doc["tests"][0]
assert t["status"] == "running" and len(t["results"]) >= 2, t
PY

# 10. No false timeout while rank 0 writes: a document write that takes three timeouts
# (a slow file system) does not count toward the other ranks' watchdogs.
expect_status 0 "a slow document write is not a timeout" \
  tb_mpirun 3 -x TOPOBENCH_TEST_FAULT=slowsave:latency:0 "${F[@]}" "$TB" run "${common[@]}" \
  -t latency,all_reduce --timeout 1 -o "$WORK/slow"
expect_output "test fault: the document write takes 3 s" "the slow write happened"
finish
