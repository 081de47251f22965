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
finish
