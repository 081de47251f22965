#!/usr/bin/env bash
# run --retest: a slow link injected with the test fault switch (ranks 1 and 2: their
# bandwidth windows to each other start 1 s late, in every test) is found by the analysis,
# measured again alone in the same job with a healthy pair beside it, and confirmed. A
# fault present only in the first measurement (TEST isolated) is found and not confirmed.
# Without suspects nothing is measured again.
#
# The pairs are found in the isolated set (every ordered pair, one at a time): with 4 ranks
# on 2 busy cores the concurrent matrix's cells spread too widely (a scaled MAD near or
# above the median) for any cell to be an outlier at the default thresholds; the matrix
# runs too, and is judged as usual.
. "$(dirname "$0")/common.sh"
CONFIRM=inject-faults-into-this-run
PAIRS=0-1,1-0,0-2,2-0,0-3,3-0,1-2,2-1,1-3,3-1,2-3,3-2
# --min-drop 0.8 (with the loosest MAD threshold, 0.5): a cell is an outlier only at a fifth
# of its peers' median, and isolation confirms a verdict only below a fifth of the controls,
# so the busy machine's spread can neither hide the fault (1 s per window: a few hundredths
# of the healthy pairs) nor fake one.
common=(--suite quick -t matrix -p $PAIRS -m 64K -T 50ms --no-progress -q --retest
  --mad-threshold 0.5 --min-drop 0.8)

check_doc() { # check_doc DIR WANT_VERDICT
  py_check "$1: the slow link is named and its isolation verdict is '$2'" "$WORK/$1/results.json" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); want = sys.argv[2]
a = doc["analysis"]
re = [t for t in doc["tests"] if t["name"] == "retest"]
assert len(re) == 1 and re[0]["status"] == "ok" and re[0]["level"] == "isolated", re
p = re[0]["params"]
assert any(sorted(x) == [1, 2] for x in p["suspects"]), p
assert p["controls"] and not {tuple(c) for c in p["controls"]} & {tuple(c) for c in p["suspects"]}, p
measured = {(x["a"], x["b"]) for x in re[0]["matrix"]["pairs"]}
assert {tuple(x) for x in p["suspects"] + p["controls"]} == measured, measured
link = [c for c in a["culprits"] if set(sum(c["confirm_pairs"], [])) == {1, 2}]
assert link, [(c["kind"], c["subject"]) for c in a["culprits"]]
for c in link:
    assert c["isolation"]["verdict"] == want, c["isolation"]
    assert c["isolation"]["controls"] >= 1, c["isolation"]
print([(c["kind"], c["subject"], c.get("isolation", {}).get("verdict")) for c in a["culprits"]])
PY
}

expect_status 0 "a slow link, measured again alone" \
  tb_mpirun 4 -x TOPOBENCH_TEST_FAULT=slow:any:1:2 -x TOPOBENCH_TEST_FAULT_CONFIRM=$CONFIRM \
  "$TB" run "${common[@]}" -o "$WORK/slow"
expect_output "slow link between ranks 1 and 2" "the fault is announced"
expect_output "^  LINK ranks 1 <-> 2 on " "the analysis names the link"
expect_output "^    isolation: confirmed: alone, ranks [12] -> [12] measured" "isolation confirms it"
check_doc slow confirmed

expect_status 0 "a pair slow only when first measured" \
  tb_mpirun 4 -x TOPOBENCH_TEST_FAULT=slow:isolated:1:2 -x TOPOBENCH_TEST_FAULT_CONFIRM=$CONFIRM \
  "$TB" run "${common[@]}" -o "$WORK/load"
expect_output "^    isolation: not confirmed: .*fine alone" "isolation does not confirm it"
check_doc load "not confirmed"

expect_status 0 "no suspect: nothing measured again" \
  tb_mpirun 2 "$TB" run --suite quick -t latency --no-progress -q --retest -o "$WORK/none"
expect_output "^retest: the analysis names no suspect pair" "says so"
py_check "no retest entry" "$WORK/none/results.json" <<'PY'
import json, sys
assert not [t for t in json.load(open(sys.argv[1]))["tests"] if t["name"] == "retest"]
PY
expect_status 2 "--retest needs the analysis" "$TB" run --retest --no-analyze
expect_output "cannot go with --no-analyze" "the conflict is named"
finish
