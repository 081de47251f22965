#!/usr/bin/env bash
# Bad input to `run`: each gets a clear message and the documented exit status.
. "$(dirname "$0")/common.sh"

expect_status 2 "unknown option" tb_mpirun 2 "$TB" run --frobnicate
expect_output "unknown option '--frobnicate'" "unknown option is named"
expect_status 2 "bad size" tb_mpirun 2 "$TB" run -e 4Q
expect_output "--maxbytes '4Q': expected a size" "bad size is named with what was expected"
expect_status 2 "min above max" tb_mpirun 1 "$TB" run -b 1M -e 1K
expect_output "larger than --maxbytes" "min above max explained"
expect_status 2 "unknown test" tb_mpirun 1 "$TB" run -t all_reduce,warp_drive
expect_output "unknown test 'warp_drive'" "unknown test is named"
expect_status 2 "bad suite" tb_mpirun 1 "$TB" run --suite heroic
expect_status 2 "bad pairs" tb_mpirun 1 "$TB" run --pairs 0-0
expect_status 2 "pair outside the job" tb_mpirun 2 "$TB" run -t isolated --pairs 0-5 -o "$WORK/p"
expect_output "ranks 0..1 only" "pair outside the job explained"
expect_status 2 "bad timeout" tb_mpirun 1 "$TB" run --timeout soon
expect_status 2 "unknown subcommand" "$TB" frobnicate
expect_status 4 "unwritable output directory" tb_mpirun 2 "$TB" run -o /proc/topobench-no/x
expect_output "cannot create output directory /proc/topobench-no" "unwritable directory is named"
touch "$WORK/file"
expect_status 4 "output directory is a file" tb_mpirun 2 "$TB" run -o "$WORK/file"
expect_status 0 "help" "$TB" run --help
expect_output "Exit statuses" "help documents the exit statuses"
for opt in minbytes maxbytes stepfactor iters warmup time-budget tests outdir check timeout suite matrix-size pairs; do
  grep -q -- "--$opt" "$WORK/out" || fail "help lacks --$opt"
done
pass "help lists every option"
expect_status 0 "version" "$TB" version
expect_output "topobench [0-9]+\.[0-9]+\.[0-9]+ \(git " "version names the git hash"
# Found is not compiled: each optional dependency says which it is. UCX (bench/ucx, linked)
# is compiled wherever libucx was found; NCCL's (bench/nccl) and the CUDA runtime's
# (bench/gpu), both loaded at run time, are compiled against their headers wherever those
# were found.
expect_output "^build: cuda=(no|found|compiled) nccl=(no|found|compiled) ucx=(no|found|compiled) verbs=(no|found|compiled) " "version says found/compiled per dependency"
if grep -Eq "ucx=found" "$WORK/out"; then
  fail "UCX found but its code not compiled"; else pass "UCX's code is compiled wherever UCX is found"; fi
if grep -Eq "nccl=found" "$WORK/out"; then
  fail "NCCL found but its code not compiled"; else pass "NCCL's code is compiled wherever NCCL is found"; fi
if grep -Eq "cuda=found" "$WORK/out"; then
  fail "the CUDA headers were found but the loader was not compiled against them"; else
  pass "cuda: compiled where found"; fi
expect_status 2 "version --bogus" "$TB" version --bogus
expect_output "version: unexpected argument '--bogus'" "version's bad argument is named"

# Help, version, topo and report start no MPI: with MPI_Init made to fail (no such PML)
# they still work.
nompi() { OMPI_MCA_pml=no-such-pml "$@"; }
expect_status 0 "--help without MPI" nompi "$TB" --help
expect_output "^  report " "--help lists the subcommands"
expect_output "^  run " "--help lists run"
expect_status 0 "help report" nompi "$TB" help report
expect_output "usage: topobench report" "help report is report's help"
expect_status 0 "help run without MPI" nompi "$TB" help run
expect_output "--pairs" "help run is run's help"
expect_status 0 "run --help without MPI" nompi "$TB" run --help
expect_status 0 "version without MPI" nompi "$TB" version
expect_status 0 "report --help without MPI" nompi "$TB" report --help
expect_status 0 "topo without MPI" nompi "$TB" topo
expect_output "^Topology of " "topo printed the node"
expect_status 2 "help of an unknown subcommand" nompi "$TB" help frobnicate
# ...and the check is real: a run does need MPI.
expect_status_not0() { "$@" >"$WORK/out" 2>&1 && fail "$*: exit 0" || pass "$* fails"; }
expect_status_not0 nompi "$TB" run -t latency -b 8 -e 8 -T 1ms -o "$WORK/nompi" -q

# Every numeric option is range-checked: a usage error naming the range, never an
# internal error later.
expect_status 2 "-n 99999999999" tb_mpirun 2 "$TB" run -n 99999999999 -t latency -o "$WORK/r"
expect_output "--iters 99999999999: out of range, expected 0 to 10000000" "-n range named"
expect_status 2 "-n overflowing long" tb_mpirun 1 "$TB" run -n 99999999999999999999999 -o "$WORK/r"
expect_status 2 "-w too many" tb_mpirun 1 "$TB" run -w 99999999999 -o "$WORK/r"
expect_status 2 "--max-iters too many" tb_mpirun 1 "$TB" run --max-iters 1e3 -o "$WORK/r"
expect_status 2 "-T too long" tb_mpirun 1 "$TB" run -T 2h -o "$WORK/r"
expect_output "--time-budget 2h: out of range" "-T range named"
expect_status 2 "--timeout too long" tb_mpirun 1 "$TB" run --timeout 9999h -o "$WORK/r"
expect_status 2 "-f too large" tb_mpirun 1 "$TB" run -f 1e9 -o "$WORK/r"
expect_status 2 "-m too large" tb_mpirun 1 "$TB" run -m 2G -o "$WORK/r"
expect_status 2 "--window 0" tb_mpirun 1 "$TB" run --window 0 -o "$WORK/r"
expect_status 2 "--pairs overflowing int" tb_mpirun 1 "$TB" run -p 0-99999999999 -o "$WORK/r"

# Bad pairs are refused before anything is measured (no latency table, no document).
expect_status 2 "pair outside the job, with other tests" tb_mpirun 2 "$TB" run -t latency -p 0-5 -b 8 -e 8 -T 1ms -o "$WORK/pp"
if grep -q "latency" "$WORK/out" || [ -e "$WORK/pp/results.json" ]; then
  fail "a test ran before the bad pair was refused"; else pass "nothing measured before the bad pair"; fi
# A fresh directory tree is created; the isolated mode measures the pairs given.
expect_status 0 "isolated pairs" tb_mpirun 3 "$TB" run -t isolated --pairs 0-1,2-1 -m 64K -T 5ms -o "$WORK/new/dir" -q
py_check "isolated pairs in the document" "$WORK/new/dir/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = [t for t in doc["tests"] if t["name"] == "isolated"][0]
pairs = t["matrix"]["pairs"]
assert [(p["a"], p["b"]) for p in pairs] == [(0, 1), (2, 1)], pairs
assert all(p["bw_gbps"] > 0 and p["latency_us"] > 0 for p in pairs)
host = {r["rank"]: r["host"] for r in doc["ranks"]}
assert all(p["a_host"] == host[p["a"]] and p["b_host"] == host[p["b"]] for p in pairs), pairs
PY
# -p alone runs only the isolated test.
expect_status 0 "-p alone" tb_mpirun 2 "$TB" run -p 0-1 -m 64K -T 5ms -o "$WORK/ponly" -q
py_check "-p alone measures only the pair" "$WORK/ponly/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
names = sorted({t["name"] for t in doc["tests"]})
assert names == ["isolated"], names
assert doc["run"]["options"]["tests"] == ["isolated"], doc["run"]["options"]["tests"]
PY

# The default output directory is new for every run, never a previous run's.
mkdir -p "$WORK/cwd"
TBABS=$(readlink -f "$TB")
(cd "$WORK/cwd" && tb_mpirun 2 "$TBABS" run -t latency -b 8 -e 8 -T 1ms -q >"$WORK/out1" 2>&1 &&
  tb_mpirun 2 "$TBABS" run -t latency -b 8 -e 8 -T 1ms -q >"$WORK/out2" 2>&1)
dirs=$(ls "$WORK/cwd/topobench-results" 2>/dev/null | wc -l)
if [ "$dirs" = 2 ] && [ "$(ls "$WORK"/cwd/topobench-results/*/results.json | wc -l)" = 2 ]; then
  pass "two runs without -o: two directories"; else
  fail "two runs without -o left $dirs directories"; ls -R "$WORK/cwd"; cat "$WORK/out1" "$WORK/out2"; fi
grep -q "results in topobench-results/[0-9]\{8\}-[0-9]\{6\}" "$WORK/out2" && pass "the final line names the new directory" || fail "final line lacks the directory"
# An explicit -o that holds a previous run's document is replaced, and says so.
expect_status 0 "reused -o" tb_mpirun 2 "$TB" run -t latency -b 8 -e 8 -T 1ms -q -o "$WORK/ponly"
expect_output "already holds a results.json: this run replaces it" "reusing -o is said"

# TOPOBENCH_TOPO_FILE: a file that exists but is not a topology is malformed input
# (status 3, nothing measured, the document says why); a missing one is discovered live
# with a warning finding in the document.
printf '<topology><object type="Machine"' >"$WORK/broken.xml"
expect_status 3 "broken TOPOBENCH_TOPO_FILE" env TOPOBENCH_TOPO_FILE="$WORK/broken.xml" \
  mpirun --oversubscribe -np 2 -x TOPOBENCH_TOPO_FILE "$TB" run -t latency -b 8 -e 8 -T 1ms -q -o "$WORK/tf"
py_check "broken topology file recorded" "$WORK/tf/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "malformed input" and doc["exit_code"] == 3, (doc["status"], doc.get("exit_code"))
assert doc["complete"] is False
assert doc["tests"] == [], [t["name"] for t in doc["tests"]]
f = [f for f in doc["findings"] if f["code"] == "topology_file_invalid"]
assert len(f) == 1 and f[0]["severity"] == "error" and "broken.xml" in f[0]["message"], doc["findings"]
PY
expect_status 0 "missing TOPOBENCH_TOPO_FILE" env TOPOBENCH_TOPO_FILE="$WORK/nothing-%h.xml" \
  mpirun --oversubscribe -np 2 -x TOPOBENCH_TOPO_FILE "$TB" run -t latency -b 8 -e 8 -T 1ms -q -o "$WORK/tm"
py_check "missing topology file is a finding" "$WORK/tm/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
f = [f for f in doc["findings"] if f["code"] == "topology_file_missing"]
assert len(f) == 1 and f[0]["severity"] == "warning" and f[0]["host"], doc["findings"]
assert "nothing-" + f[0]["host"] + ".xml" in f[0]["message"], f[0]["message"]
assert doc["hosts"][0]["topology"]["source"] == "live"
assert doc["status"] == "success"
PY

# Progress under mpirun (stderr is a pipe): plain lines with test k of n, what is measured,
# elapsed time and an estimate of what is left.
expect_status 0 "progress lines" tb_mpirun 2 "$TB" run -t latency,bw -b 8 -e 64K -T 2ms -q -o "$WORK/prog"
expect_output "^progress: test 1/2 latency \(intra-node\): 8; 0:0[0-9] elapsed, estimating what is left$" "first progress line: k/n, size, elapsed"
if grep -q $'\r' "$WORK/out"; then fail "progress redraws (\\r) on a pipe"; else pass "no redrawn line on a pipe"; fi
finish
