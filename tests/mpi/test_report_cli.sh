#!/usr/bin/env bash
# `topobench report`: renders a results document offline (no MPI), and bad input gets a
# clear message and the documented exit status (2 usage, 3 malformed input, 4 environment).
. "$(dirname "$0")/common.sh"

DATA=${TB_TEST_DATA_DIR:-}
SAMPLE=$DATA/report/results-sample.json
if [ ! -f "$SAMPLE" ]; then
  echo "skip: TB_TEST_DATA_DIR does not hold report/results-sample.json"
  exit 77
fi

# Default output directory: beside the document.
mkdir -p "$WORK/doc"
cp "$SAMPLE" "$WORK/doc/results.json"
expect_status 0 "report on the sample" "$TB" report "$WORK/doc/results.json"
expect_output "^report: wrote 10 files to $WORK/doc\$" "last line counts the files"
expect_output "out-of-place +in-place" "collective table printed"
expect_output "^nodeA:1 +38.0 \\(15%\\) +- +22.9 \\(1%\\) +11.4 \\(3%\\)\$" "matrix table printed with spreads (3 significant digits)"
for f in summary.csv all_reduce-float.csv latency-intra-node.csv bw-inter-node.csv \
  matrix-rank-matrix-recv_gbps.csv matrix-rank-matrix-send_cv.csv matrix-rank-matrix-lat.csv \
  isolated-isolated-pairs.csv; do
  if [ -s "$WORK/doc/$f" ]; then pass "$f written"; else fail "$f missing"; fi
done

# -o creates the directory; the files are the golden ones; --quiet prints no table.
expect_status 0 "report -o into a new directory" "$TB" report "$SAMPLE" -o "$WORK/new/out" --quiet
if diff -r "$DATA/report/golden" "$WORK/new/out" >"$WORK/diff"; then pass "files match the goldens"; else
  fail "files differ from the goldens"; head -20 "$WORK/diff"; fi
if grep -q '^#' "$WORK/out"; then fail "--quiet printed a table"; else pass "--quiet prints no table"; fi

# Malformed documents: exit 3 with the file and where.
head -c $(($(wc -c <"$SAMPLE") / 2)) "$SAMPLE" >"$WORK/truncated.json"
expect_status 3 "truncated document" "$TB" report "$WORK/truncated.json" -o "$WORK/t"
expect_output "truncated\.json:[0-9]+:[0-9]+: malformed JSON" "truncation names file:line:column"
echo '{"name": "not a results document", "tests": []}' >"$WORK/other.json"
expect_status 3 "JSON that is not a results document" "$TB" report "$WORK/other.json"
expect_output 'field "schema"' "the missing field is named"
sed 's/"schema_version": 2,/"schema_version": 99,/' "$SAMPLE" >"$WORK/future.json"
expect_status 3 "schema_version 99" "$TB" report "$WORK/future.json" -o "$WORK/f"
expect_output "schema_version 99" "the version is named"

# A matrix whose shape disagrees with its labels, or of the wrong type: exit 3, naming the
# file and the field, as for a wrong-typed size.
python3 - "$SAMPLE" "$WORK" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
m = [t for t in doc["tests"] if t["name"] == "matrix"][0]["matrix"]
m["recv_gbps"].pop()
json.dump(doc, open(sys.argv[2] + "/short.json", "w"))
m["recv_gbps"] = "fast"
json.dump(doc, open(sys.argv[2] + "/typed.json", "w"))
t = [t for t in doc["tests"] if t["name"] == "latency"][0]
t["results"][0]["size"] = "8"
json.dump(doc, open(sys.argv[2] + "/size.json", "w"))
PY
expect_status 3 "matrix with a row missing" "$TB" report "$WORK/short.json" -o "$WORK/s"
expect_output "short\.json: tests\[[0-9]+\] \(matrix\): matrix\.recv_gbps has 3 rows but there are 4 labels" \
  "the file, entry and field are named"
expect_status 3 "matrix of the wrong type" "$TB" report "$WORK/typed.json" -o "$WORK/s"
expect_output "typed\.json: .*matrix\.recv_gbps should be an array of rows" "wrong type named"
expect_status 3 "size of the wrong type" "$TB" report "$WORK/size.json" -o "$WORK/s"
expect_output 'results\[0\]: field "size" should be an integer' "size named"

# A schema_version 1 document (one `variant` string per entry) is still read: the same
# files as its version 2 counterpart.
expect_status 0 "report of a version 1 document" "$TB" report "$DATA/report/results-v1.json" \
  -o "$WORK/v1" --quiet
if diff -r "$DATA/report/golden" "$WORK/v1" >"$WORK/diff"; then pass "version 1 gives the same files"; else
  fail "version 1 files differ"; head -20 "$WORK/diff"; fi

# Environment and usage errors.
expect_status 4 "unwritable output directory" "$TB" report "$SAMPLE" -o /proc/topobench-x
expect_output "cannot create output directory /proc/topobench-x" "the directory is named"
expect_status 2 "unknown option" "$TB" report "$SAMPLE" --frobnicate
expect_output "unknown option '--frobnicate'" "the option is named"
expect_status 2 "missing file" "$TB" report "$WORK/no-such.json"
expect_output "no-such\.json" "the missing file is named"
expect_status 2 "no file given" "$TB" report
# --baseline: read as `check --baseline` reads it; drawn in the HTML report only.
expect_status 2 "--baseline without --format html" "$TB" report "$SAMPLE" --baseline "$SAMPLE" -o "$WORK/b"
expect_output "add --format html" "says where the baseline is drawn"
expect_status 2 "--baseline of a missing file" "$TB" report "$SAMPLE" -f html --baseline "$WORK/no-base.json" -o "$WORK/b"
expect_output "no-base\.json" "the missing baseline is named"
printf '{"schema": "topobench-baseline", "schema_version": 1, "entries": [{"name": 5}]}' >"$WORK/bad-base.json"
expect_status 3 "malformed baseline" "$TB" report "$SAMPLE" -f html --baseline "$WORK/bad-base.json" -o "$WORK/b"
expect_output "bad-base\.json" "the malformed baseline is named"
expect_status 0 "--baseline of a results document" "$TB" report "$SAMPLE" -f html --baseline "$SAMPLE" -o "$WORK/b"
if grep -q '"baseline":\[\[' "$WORK/b/report.html"; then pass "the sweeps carry the baseline's points"; else fail "no baseline points in report.html"; fi
expect_output "^report: wrote 1 file to $WORK/b\$" "one file counted in the singular"
expect_status 0 "help" "$TB" report --help
expect_output "usage: topobench report" "help shows the usage"
finish
