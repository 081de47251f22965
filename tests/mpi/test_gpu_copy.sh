#!/usr/bin/env bash
# gpu_copy end to end through the CUDA runtime double (tests/gpudouble: "device" memory
# in host memory, several fake devices, loaded as the real runtime is): every cell of the
# copy matrix measured and its data checked, the NUMA rows from the node's topology (a
# recorded file with the double's bus ids), a pair without peer access recorded, a
# corrupted copy caught (exit 6), the GPUs CUDA_VISIBLE_DEVICES leaves, and every skip
# (no runtime, no device, a missing symbol) recorded with its reason and exit 0. The
# figures mean nothing: the double copies with memcpy and times with the host clock.
. "$(dirname "$0")/common.sh"
DOUBLE=${TB_CUDA_DOUBLE:-}
NOSYM=${TB_CUDA_DOUBLE_NOSYM:-}
if [ -z "$DOUBLE" ] || [ ! -f "$DOUBLE" ]; then
  echo "skip: the CUDA runtime double is not built (TB_CUDA_DOUBLE)"
  exit 77
fi
TOPO=${TB_TEST_DATA_DIR:?}/gpu_copy/double_4gpu.xml
CONFIRM=inject-faults-into-this-run
common=(-t gpu_copy --copy-size 64K --copy-samples 3 --no-progress --no-analyze)
dbl=(-x TOPOBENCH_CUDA_LIB="$DOUBLE" -x TOPOBENCH_TOPO_FILE="$TOPO")

# Four fake GPUs on two NUMA nodes (the file's); GPU0 and GPU3 without peer access. Two
# ranks: only local rank 0 copies.
expect_status 0 "the copy matrix runs on the double" \
  tb_mpirun 2 "${dbl[@]}" -x TOPOBENCH_DOUBLE_DEVICES=4 -x TOPOBENCH_DOUBLE_NO_PEER=0-3 \
  "$TB" run "${common[@]}" -o "$WORK/ok"
expect_output "# host -> device, GB/s" "the host -> device table is printed"
expect_output "# device <-> device, both ways at once" "the both-ways table is printed"
expect_output "no peer access GPU0 -> GPU3" "the pair without peer access is printed"
py_check "the document holds every cell, the paths and the peer access" "$WORK/ok/results.json" <<'PY'
import json, math, sys
doc = json.load(open(sys.argv[1]))
t = [t for t in doc["tests"] if t["name"] == "gpu_copy"]
assert len(t) == 1, [x["name"] for x in doc["tests"]]
t = t[0]
assert t["status"] == "ok" and t["kind"] == "gpu_copy" and t["backend"] == "cuda", t["status"]
assert t["params"]["size"] == 65536 and t["params"]["batch"] == 16 and t["params"]["samples"] == 3
assert not t["errors"], t["errors"]
assert len(t["nodes"]) == 1
n = t["nodes"][0]
assert n["status"] == "ok" and n["rank"] == 0, n
assert n["labels"] == ["NUMA0", "NUMA1", "GPU0", "GPU1", "GPU2", "GPU3"], n["labels"]
eps = n["endpoints"]
assert [e["kind"] for e in eps] == ["numa"] * 2 + ["gpu"] * 4
assert [e["busid"] for e in eps[2:]] == ["0000:18:00.0", "0000:38:00.0", "0000:58:00.0", "0000:78:00.0"], eps
assert [e["numa"] for e in eps[2:]] == [0, 0, 1, 1], eps
assert all(e["topology_object"] == e["label"] for e in eps[2:])
c, b, p = n["copy_gbps"], n["bidir_gbps"], n["peer_access"]
N = 6
for i in range(N):
    for j in range(N):
        gi, gj = i >= 2, j >= 2
        want = gi or gj  # every host<->device cell, every GPU pair, the local copies
        assert (c[i][j] is not None) == want, (i, j, c[i][j])
        assert c[i][j] is None or (c[i][j] > 0 and math.isfinite(c[i][j]))
        assert (b[i][j] is not None) == (gi and gj and i != j), (i, j, b[i][j])
        assert (n["copy_cv"][i][j] is not None) == want
        if gi and gj and i != j:
            want_peer = 0 if {i, j} == {2, 5} else 1
            assert p[i][j] == want_peer, (i, j, p[i][j])
        else:
            assert p[i][j] is None
pa = n["paths"]
assert pa["GPU0"]["GPU1"] == "NV4" and pa["GPU2"]["GPU3"] == "NV4", pa
assert pa["GPU0"]["GPU2"] == "SYS" and pa["NUMA0"]["GPU0"] == "PHB" and pa["NUMA0"]["GPU3"] == "SYS", pa
assert n["expected_gbps"][2][3] > 0
# This machine has NUMA node 0 only: node 0's buffers are there, node 1's binding fails
# and says so.
hm = n["host_memory"]
assert hm["NUMA0"]["memory_bound"] and hm["NUMA0"]["src_node"] == 0 and hm["NUMA0"]["dst_node"] == 0, hm
assert not hm["NUMA1"]["memory_bound"], hm
assert any("NUMA1" in x and "set_mempolicy" in x for x in n["notes"]), n["notes"]
assert any("GPU0 -> GPU3: no peer access" in x for x in n["notes"]), n["notes"]
assert doc["run"]["options"]["copy_bytes"] == 65536
PY
if [ -f "$WORK/ok/gpu_copy-cuda-node-copies.csv" ] &&
  [ "$(wc -l <"$WORK/ok/gpu_copy-cuda-node-copies.csv")" -eq $((1 + 16 + 16 + 12)) ]; then
  pass "the CSV file has one row per measured cell"
else
  fail "gpu_copy-cuda-node-copies.csv: missing or not 45 lines"
fi
expect_status 0 "topobench report reads the document back" "$TB" report "$WORK/ok/results.json" -o "$WORK/ok-report"
expect_output "device -> device, one way" "report prints the copy matrix"

# Two nodes' worth of leaders cannot be made on one machine; two ranks with one node each
# is what the job has. Every copy is checked: a corrupted byte is exit 6, with the copy.
expect_status 6 "a corrupted copy is caught" \
  tb_mpirun 2 "${dbl[@]}" -x TOPOBENCH_TEST_FAULT=corrupt:gpu_copy:0 \
  -x TOPOBENCH_TEST_FAULT_CONFIRM=$CONFIRM "$TB" run "${common[@]}" -o "$WORK/corrupt"
expect_output "data corruption: test 'gpu_copy' \(copy\) size 65536 GPU0 -> GPU0" \
  "the corruption names the test, size and copy"
py_check "the error is in the document" "$WORK/corrupt/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = [t for t in doc["tests"] if t["name"] == "gpu_copy"][0]
assert doc["exit_code"] == 6 and t["status"] == "data corruption", (doc["exit_code"], t["status"])
e = t["errors"]
assert len(e) == 1 and e[0]["from"] == "GPU0" and e[0]["to"] == "GPU0" and e[0]["wrong"] == 1, e
assert e[0]["offset"] == 32768 and e[0]["host"] and e[0]["rank"] == 0, e
PY
# The double's own fault: every device-to-host copy arrives with its first byte flipped.
expect_status 6 "a runtime that corrupts device-to-host copies is caught" \
  tb_mpirun 1 "${dbl[@]}" -x TOPOBENCH_DOUBLE_DEVICES=2 -x TOPOBENCH_DOUBLE_FAULT=corrupt_d2h \
  "$TB" run "${common[@]}" -o "$WORK/d2h"

# CUDA_VISIBLE_DEVICES=2,3: CUDA devices 0 and 1 are the topology's GPU2 and GPU3.
expect_status 0 "CUDA_VISIBLE_DEVICES is honoured" \
  tb_mpirun 1 "${dbl[@]}" -x CUDA_VISIBLE_DEVICES=2,3 "$TB" run "${common[@]}" -o "$WORK/cvd"
py_check "the visible GPUs keep the topology's names" "$WORK/cvd/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
n = [t for t in doc["tests"] if t["name"] == "gpu_copy"][0]["nodes"][0]
assert n["labels"] == ["NUMA0", "NUMA1", "GPU2", "GPU3"], n["labels"]
assert [e["cuda_device"] for e in n["endpoints"][2:]] == [0, 1]
assert any("sees 2 of the node's 4 GPUs" in x for x in n["notes"]), n["notes"]
PY

# Without a topology file: this machine's own NUMA nodes, GPUs named by CUDA ordinal.
expect_status 0 "without a topology of the GPUs" \
  tb_mpirun 1 -x TOPOBENCH_CUDA_LIB="$DOUBLE" -x TOPOBENCH_DOUBLE_DEVICES=2 \
  "$TB" run "${common[@]}" -o "$WORK/live"
py_check "unmatched GPUs are named by CUDA ordinal" "$WORK/live/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
n = [t for t in doc["tests"] if t["name"] == "gpu_copy"][0]["nodes"][0]
assert n["labels"][-2:] == ["cuda0", "cuda1"], n["labels"]
assert n["paths"]["cuda0"]["cuda1"] == "unknown", n["paths"]
PY

# Skips: exit 0, the reason recorded and printed once.
expect_status 0 "no CUDA runtime: skipped" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB=/nonexistent/libcudart.so "$TB" run "${common[@]}" -o "$WORK/nolib"
expect_output "gpu_copy \(cuda-node\): skipped: .*libcudart" "the skip names the library"
if [ "$(grep -c 'skipped' "$WORK/out")" -eq 1 ]; then pass "the reason is printed once"; else
  fail "the skip reason is printed $(grep -c 'skipped' "$WORK/out") times"; fi
expect_status 0 "no device: skipped" \
  tb_mpirun 2 "${dbl[@]}" -x TOPOBENCH_DOUBLE_DEVICES=0 "$TB" run "${common[@]}" -o "$WORK/nodev"
expect_output "gpu_copy \(cuda-node\): skipped: .*cudaGetDeviceCount" "the skip names the failed call"
if [ -n "$NOSYM" ] && [ -f "$NOSYM" ]; then
  expect_status 0 "a runtime without a required symbol: skipped" \
    tb_mpirun 1 -x TOPOBENCH_CUDA_LIB="$NOSYM" "$TB" run "${common[@]}" -o "$WORK/nosym"
  expect_output "skipped: .*cudaEventElapsedTime" "the skip names the missing symbol"
fi
py_check "a skipped entry keeps each node's reason" "$WORK/nodev/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = [t for t in doc["tests"] if t["name"] == "gpu_copy"][0]
assert t["status"] == "skipped" and "cudaGetDeviceCount" in t["skip_reason"], t
assert t["nodes"][0]["status"] == "skipped" and t["nodes"][0]["skip_reason"] == t["skip_reason"]
PY
finish
