#!/usr/bin/env bash
# Every ending is recorded in results.json: a signal (interrupted, exit 8), results
# inside a test that survive a kill, and no false timeout while rank 0 writes slowly.
# (Stopped ranks, failed calls and allocations: test_stops.sh.)
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
# bw and bibw after latency leave ~10 s for the signal to land inside the run: with bw
# alone (2.5 s) a late poll on a loaded CI machine saw the run end first (2026-12-03).
mpirun --oversubscribe -np 2 "$TB" run -b 8 -e 4K -f 4 -T 1s --no-progress -q -t latency,bw,bibw \
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
assert st["latency"] == "ok" and set(st.values()) <= {"ok", "interrupted"}, st
assert "interrupted" in st.values() or len(st) < 3, st
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

# 3. Sizes finished inside a test survive a kill: the document is rewritten every few
# seconds during a test, not only after it.
out="$WORK/kill"
# --max-iters: the time budget, not the default iteration cap, decides each size's length
# (a fast size would otherwise end in a fraction of a second and the test before a rewrite).
mpirun --oversubscribe -np 2 "$TB" run -b 8 -e 4K -f 2 -T 1s --max-iters 10000000 \
  --no-progress -q -t latency -o "$out" >"$WORK/out" 2>&1 &
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

# 4. No false timeout while rank 0 writes: a document write that takes three timeouts
# (a slow file system) does not count toward the other ranks' watchdogs.
expect_status 0 "a slow document write is not a timeout" \
  tb_mpirun 3 -x TOPOBENCH_TEST_FAULT=slowsave:latency:0 "${F[@]}" "$TB" run "${common[@]}" \
  -t latency,all_reduce --timeout 3 -o "$WORK/slow"
expect_output "test fault: the document write takes 9 s" "the slow write happened"
finish
