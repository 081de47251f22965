#!/usr/bin/env bash
# The output file system fills up mid-run (a small tmpfs, filled once the first test is
# saved): the run goes on measuring, says which tests the document on disk lacks and
# that CSV files were not written, keeps the last good document, and exits 4.
. "$(dirname "$0")/common.sh"
DISK="$WORK/disk"
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=8m tmpfs "$DISK" 2>/dev/null; then
  echo "skip: cannot mount a tmpfs here (needs root)"
  exit 77
fi
trap 'umount "$DISK" 2>/dev/null; rm -rf "$WORK"' EXIT
out="$DISK/out"

mpirun --oversubscribe -np 2 "$TB" run -b 8 -e 4K -f 4 -T 0.3s --no-progress -q \
  -t latency,bw,bibw -o "$out" >"$WORK/out" 2>&1 &
pid=$!
for ((i = 0; i < 300; i++)); do
  python3 - "$out/results.json" 2>/dev/null <<'PY' && break
import json, sys
doc = json.load(open(sys.argv[1]))
sys.exit(0 if doc["tests"] and doc["tests"][0]["status"] == "ok" else 1)
PY
  sleep 0.2
done
dd if=/dev/zero of="$DISK/filler" bs=64k >/dev/null 2>&1 # until the disk is full
wait $pid
rc=$?
if [ "$rc" = 4 ]; then pass "a full disk mid-run ends with the environment status (exit 4)"; else
  fail "full disk: exit $rc, expected 4"; tail -20 "$WORK/out"; fi
expect_output "cannot write .*results.json: No space left on device" "the write error is said"
expect_output "results.json lacks these tests: [^;]*bibw \(intra-node\); CSV files were not written" \
  "the missing tests are named and the CSV files are said not to be written"
expect_output "results.json is incomplete and no CSV files were written" "the last line says so"
py_check "the document on disk is the last good one, with the first test" "$out/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["tests"][0]["name"] == "latency" and doc["tests"][0]["status"] == "ok", doc["tests"]
assert all(t["name"] != "bibw" for t in doc["tests"]), [t["name"] for t in doc["tests"]]
PY
if ls "$out"/*.csv >/dev/null 2>&1; then fail "CSV files were written: $(ls "$out")"; else
  pass "no CSV files on the full disk"; fi
finish
