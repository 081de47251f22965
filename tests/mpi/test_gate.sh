#!/usr/bin/env bash
# The CI gate's commands: `topobench baseline` and `topobench check` offline (no MPI) on
# the sample document: pass (0), regression (5) with the failed check named, missing test
# (5, or 0 with --allow-missing), malformed baseline (3, file:line:column or the field),
# an nccl-tests log as the baseline, expectation files (pass, fail, errors naming file,
# line and field), JUnit XML well-formed (xmllint) with one test case per check, the
# Markdown summary; then a real 2-rank run checked against a baseline of itself (0) and
# of a faster self (5).
. "$(dirname "$0")/common.sh"

DATA=${TB_TEST_DATA_DIR:-}
FIX=${TB_FIXTURES_DIR:-}
SAMPLE=$DATA/report/results-sample.json
if [ ! -f "$SAMPLE" ] || [ ! -d "$FIX/nccl_tests" ]; then
  echo "skip: TB_TEST_DATA_DIR or TB_FIXTURES_DIR missing"
  exit 77
fi
if ! command -v xmllint >/dev/null; then
  fail "xmllint not found (scripts/install-deps.sh installs libxml2-utils)"
fi

# --- baseline and a passing check
cp "$SAMPLE" "$WORK/run.json"
expect_status 0 "baseline from a results document" "$TB" baseline "$WORK/run.json" -o "$WORK/base.json"
expect_output "^baseline: 4 entries, 13 sizes from .*run.json \(results\) written to" "what was kept"
expect_output "node_matrix \(node\): not kept: it ended 'skipped'" "what was not kept, and why"
expect_status 0 "check against itself" "$TB" check "$WORK/run.json" --baseline "$WORK/base.json" \
  --junit "$WORK/pass.xml" --markdown "$WORK/pass.md" --json "$WORK/pass.json"
expect_output "^check: PASS: 15 checks, 0 failed, 0 missing" "verdict last"
expect_output "^ok +all_reduce \(float\) 4M busbw_gbps +8\.94 +8\.94 +\+0\.0% +5\.0%" "the table of what was compared"
expect_output "^new: isolated \(isolated\): in the run, not in the baseline" "entries the baseline lacks are listed"
if xmllint --noout "$WORK/pass.xml" 2>"$WORK/xml.err"; then pass "JUnit XML well-formed"; else
  fail "JUnit XML: $(cat "$WORK/xml.err")"; fi
py_check "one JUnit test case per check, none failing" "$WORK/pass.xml" "$WORK/pass.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall(".//testcase")
res = json.load(open(sys.argv[2]))
assert len(cases) == res["counts"]["checks"] == 15, (len(cases), res["counts"])
assert root.get("failures") == "0" and not root.findall(".//failure")
assert res["schema"] == "topobench-check" and res["verdict"] == "pass"
PY
if grep -q "^## topobench check: PASS" "$WORK/pass.md"; then pass "Markdown summary"; else
  fail "Markdown summary lacks its title"; cat "$WORK/pass.md"; fi

# --- a regression: all_reduce 4M busbw 20% lower
python3 - "$WORK/run.json" "$WORK/slow.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["tests"]:
    if t["name"] == "all_reduce":
        for r in t["results"]:
            if r["size"] == 4194304 and not r["in_place"]:
                r["time_us"]["mean"] *= 1.25
                r["busbw_gbps"] /= 1.25
json.dump(d, open(sys.argv[2], "w"))
PY
expect_status 5 "a regression" "$TB" check "$WORK/slow.json" --baseline "$WORK/base.json" \
  --junit "$WORK/fail.xml" --markdown "$WORK/fail.md"
expect_output "^FAIL +all_reduce \(float\) 4M busbw_gbps +8\.94 +7\.15 +-20\.0% +5\.0%" "the failed row in the table"
expect_output "^FAIL all_reduce \(float\) 4M busbw_gbps: 7\.148 GB/s against the baseline's 8\.935: -20\.0%, beyond the 5\.0% allowed \(tolerance\)" "what failed, and by how much"
expect_output "^check: FAIL: 15 checks, 1 failed, 0 missing" "verdict"
if xmllint --noout "$WORK/fail.xml" 2>"$WORK/xml.err"; then pass "JUnit XML of a failure well-formed"; else
  fail "JUnit XML: $(cat "$WORK/xml.err")"; fi
py_check "the JUnit failure names the check" "$WORK/fail.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
f = [c for c in root.iter("testcase") if c.find("failure") is not None]
assert len(f) == 1 and f[0].get("name") == "all_reduce (float) 4M busbw_gbps", [c.get("name") for c in f]
assert f[0].find("failure").get("type") == "regression"
PY
if grep -q "^| FAIL | all_reduce (float) 4M busbw_gbps | 8.94 | 7.15 GB/s | -20.0% | 5.0% |" "$WORK/fail.md"; then
  pass "Markdown lists the failure"; else fail "Markdown lacks the failure"; cat "$WORK/fail.md"; fi
expect_status 0 "a 25% tolerance" "$TB" check "$WORK/slow.json" --baseline "$WORK/base.json" -t 25%
expect_status 5 "-q prints the failures only" "$TB" check -q "$WORK/slow.json" --baseline "$WORK/base.json"
if grep -q "^ok " "$WORK/out"; then fail "-q printed passing rows"; else pass "-q: no passing rows"; fi

# --- a missing test
python3 - "$WORK/run.json" "$WORK/nobw.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["tests"] = [t for t in d["tests"] if t["name"] != "bw"]
json.dump(d, open(sys.argv[2], "w"))
PY
expect_status 5 "a test missing from the run fails" "$TB" check "$WORK/nobw.json" --baseline "$WORK/base.json"
expect_output "^MISSING bw \(inter-node\) 4M bw_gbps: not in the run" "the missing test is named"
expect_output "^check: FAIL: 15 checks, 0 failed, 3 missing" "counted as missing"
expect_status 0 "--allow-missing" "$TB" check "$WORK/nobw.json" --baseline "$WORK/base.json" --allow-missing --junit "$WORK/miss.xml"
expect_output "^check: PASS: 15 checks, 0 failed, 3 missing \(allowed\)" "reported, not failed"
py_check "allowed missing rows are skipped test cases" "$WORK/miss.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert len([c for c in root.iter("testcase") if c.find("skipped") is not None]) == 3
PY

# --- malformed baselines: status 3, the place named
head -c 200 "$WORK/base.json" >"$WORK/trunc.json"
expect_status 3 "truncated baseline" "$TB" check "$WORK/run.json" --baseline "$WORK/trunc.json"
expect_output "trunc\.json:[0-9]+:[0-9]+: malformed JSON" "file:line:column"
python3 - "$WORK/base.json" "$WORK/badfield.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
b["entries"][2]["rows"][1]["figures"]["busbw_gbps"]["value"] = "fast"
json.dump(b, open(sys.argv[2], "w"))
PY
expect_status 3 "a bad field in the baseline" "$TB" check "$WORK/run.json" --baseline "$WORK/badfield.json"
expect_output "badfield\.json: entries\[2\]\.rows\[1\]\.figures\.busbw_gbps\.value: expected a number >= 0" "the field is named"
printf 'not a baseline\n' >"$WORK/junk.txt"
expect_status 3 "neither JSON nor nccl-tests output" "$TB" check "$WORK/run.json" --baseline "$WORK/junk.txt"
expect_output "junk\.txt: no nccl-tests result found" "says what it expected"
expect_status 2 "a baseline that does not exist" "$TB" check "$WORK/run.json" --baseline "$WORK/none.json"

# --- nccl-tests output as the baseline
LOG=$FIX/nccl_tests/dstack-docs_Nebius-2node-16xH100-IB_all_reduce_perf.txt
expect_status 0 "baseline from an nccl-tests log" "$TB" baseline "$LOG" -o "$WORK/nccl.json"
expect_output "^baseline: 1 entries, 62 sizes from .* \(nccl-tests\)" "every size, out-of-place and in-place"
py_check "the log's figures, keyed as topobench keys them" "$WORK/nccl.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
e = b["entries"][0]
assert (e["name"], e["backend"], e["send_memory"], e["dtype"]) == ("all_reduce", "nccl", "device", "float"), e
r = [r for r in e["rows"] if r["size"] == 8589934592 and not r["in_place"]][0]
assert r["figures"]["busbw_gbps"]["value"] == 467.54 and r["figures"]["busbw_gbps"]["resolution"] == 0.005
PY
# a run of the same collective over nccl: 4M busbw 8.9 against the log's 71.40
python3 - "$WORK/run.json" "$WORK/ncclrun.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["tests"]:
    if t["name"] == "all_reduce":
        t["backend"], t["send_memory"], t["recv_memory"] = "nccl", "device", "device"
json.dump(d, open(sys.argv[2], "w"))
PY
expect_status 5 "check against the log directly" "$TB" check "$WORK/ncclrun.json" --baseline "$LOG" --allow-missing
expect_output "^FAIL all_reduce \(nccl-device-float\) 4M busbw_gbps: 8\.935 GB/s against the baseline's 71\.4" "compared by key, not position"
expect_status 5 "a baseline of which no row matches fails, missing allowed or not" "$TB" check "$WORK/run.json" --baseline "$LOG" --allow-missing
expect_output "^FAIL the baseline matches the run: no row of the baseline matched" "says the baseline is of another configuration"
TABLE=$FIX/nccl_tests/stas00-ml-engineering_1node-8xH200_NVLS-vs-ring_8GiB_table.md
expect_status 3 "a table naming no collective" "$TB" baseline "$TABLE" -o "$WORK/t.json"
expect_output "give it with --nccl-test NAME" "says which option"
expect_status 0 "... given with --nccl-test and --nccl-size" "$TB" baseline "$TABLE" -o "$WORK/t.json" --nccl-test all_reduce --nccl-size 8G
expect_output "^baseline: 5 entries, 5 sizes" "one entry per GPU count"
printf '#  size count type redop root time algbw busbw #wrong\n  8 2 float sum -1 1.0 0.00 fast 0\n' >"$WORK/badlog.txt"
expect_status 3 "a malformed nccl-tests row" "$TB" baseline "$WORK/badlog.txt" --nccl-test all_reduce -o "$WORK/t.json"
expect_output "badlog\.txt:2: column 'busbw' \(out-of-place\): 'fast' is not a bandwidth" "file, line and column"

# --- expectations
cat >"$WORK/ok.expect" <<'EOF'
# what this cluster must reach
all_reduce dtype=float size=4M busbw_gbps >= 8 GB/s
latency placement=intra-node size=8 latency_us <= 0.3 us
analysis kind=node verdicts == 0
EOF
expect_status 0 "expectations met" "$TB" check "$WORK/run.json" --expect "$WORK/ok.expect"
expect_output "^check: PASS: 4 checks" "one check per matching row"
expect_status 5 "an expectation failed" "$TB" check "$WORK/slow.json" --expect "$WORK/ok.expect" --baseline "$WORK/base.json" --junit "$WORK/exp.xml"
expect_output "^FAIL .*ok\.expect:2: all_reduce \(float\) 4M busbw_gbps: 7\.148 GB/s, expected >= 8" "the line and the figure"
if xmllint --noout "$WORK/exp.xml"; then pass "JUnit with both suites well-formed"; else fail "JUnit with expectations"; fi
bad_expect() { # bad_expect LINE PATTERN DESC
  printf '# first line\n%s\n' "$1" >"$WORK/bad.expect"
  expect_status 3 "$3" "$TB" check "$WORK/run.json" --expect "$WORK/bad.expect"
  expect_output "$2" "$3: file, line and field named"
}
bad_expect "all_reduce size=4Q busbw_gbps >= 8" "bad\.expect:2: field 'size': '4Q' is not a size" "a bad size"
bad_expect "all_reduce size=4M busbw >= 8" "bad\.expect:2: field 'figure': 'busbw': expected busbw_gbps" "an unknown figure"
bad_expect "latency latency_us <= 2 ms" "bad\.expect:2: field 'unit': 'ms': latency_us is in us" "a wrong unit"
bad_expect "latency latency_us =< 2" "bad\.expect:2: field 'operator': '=<'" "a bad operator"
bad_expect "latency colour=red latency_us <= 2" "bad\.expect:2: field 'colour': unknown key" "an unknown key"

# --- usage
expect_status 2 "no results file" "$TB" check --baseline "$WORK/base.json"
expect_status 2 "nothing to check against" "$TB" check "$WORK/run.json"
expect_status 2 "a bad tolerance" "$TB" check "$WORK/run.json" --baseline "$WORK/base.json" -t 5
expect_output "expected a percentage \(5%\) or a fraction \(0\.05\)" "the accepted forms are named"
expect_status 2 "baseline without -o" "$TB" baseline "$WORK/run.json"
expect_status 4 "an unwritable JUnit path" "$TB" check "$WORK/run.json" --baseline "$WORK/base.json" --junit /proc/nonexistent/j.xml

# --- a real run, its own baseline, and a baseline twice as fast
expect_status 0 "a 2-rank run" tb_mpirun 2 "$TB" run -s quick -t latency,all_reduce -o "$WORK/real" -q --no-progress --no-analyze
expect_status 0 "baseline of the real run" "$TB" baseline "$WORK/real/results.json" -o "$WORK/real-base.json"
expect_status 0 "the run passes against itself" "$TB" check "$WORK/real/results.json" --baseline "$WORK/real-base.json"
python3 - "$WORK/real-base.json" "$WORK/fast-base.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
for e in b["entries"]:
    for r in e["rows"]:
        for name, f in r["figures"].items():
            f["value"] = f["value"] * 2 if name.endswith("gbps") else f["value"] / 2
            f["cv"] = 0.0
json.dump(b, open(sys.argv[2], "w"))
PY
expect_status 5 "twice slower than the baseline fails" "$TB" check "$WORK/real/results.json" --baseline "$WORK/fast-base.json" --tolerance 20% --spread 0
finish
