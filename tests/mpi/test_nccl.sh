#!/usr/bin/env bash
# The nccl_* tests: every skip (no NCCL library, an NCCL too old for a call, no GPU) exits 0
# with the reason said once and recorded per test; with the NCCL and CUDA test doubles
# (tests/nccldouble, the CUDA double) every collective runs end to end through the same
# loading path: nccl-tests' table, the data check (an injected wrong element is found),
# results.json.
. "$(dirname "$0")/common.sh"
ALL=nccl_all_reduce,nccl_all_gather,nccl_reduce_scatter,nccl_broadcast,nccl_reduce,nccl_alltoall,nccl_sendrecv
common=(--no-progress -b 8 -e 4K -f 4)

# --- skips -------------------------------------------------------------------------------
expect_status 0 "no NCCL library: every nccl_* test skipped, exit 0" \
  tb_mpirun 4 "$TB" run "${common[@]}" -t "$ALL" --nccl-lib /nonexistent/libnccl.so.2 \
  --no-analyze -o "$WORK/nolib"
expect_output "skipped: .*no usable NCCL: /nonexistent/libnccl.so.2" "the reason names the library"
n=$(grep -c "/nonexistent/libnccl.so.2" "$WORK/out")
[ "$n" -eq 1 ] && pass "the reason is printed once" ||
  fail "the reason is printed $n times"
py_check "every nccl_* test is recorded as skipped with the reason" "$WORK/nolib/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = [x for x in doc["tests"] if x["name"].startswith("nccl_")]
assert len(t) == 7, [x["name"] for x in t]
for x in t:
    assert x["status"] == "skipped" and "/nonexistent/libnccl.so.2" in x["skip_reason"], x
    assert x["backend"] == "nccl" and x["send_memory"] == "device", x
assert doc["run"]["nccl"]["used"] is False and "nonexistent" in doc["run"]["nccl"]["skip_reason"]
assert doc["exit_code"] == 0
PY

expect_status 0 "TOPOBENCH_NCCL_LIB names the library when --nccl-lib is not given" \
  tb_mpirun 2 -x TOPOBENCH_NCCL_LIB=/nonexistent/other/libnccl.so.2 "$TB" run "${common[@]}" \
  -t nccl_all_reduce -o "$WORK/env"
expect_output "/nonexistent/other/libnccl.so.2" "the variable's library is the one tried"

if [ -n "${TB_NCCL_DOUBLE_2_1:-}" ]; then
  expect_status 0 "an NCCL without a required call: every nccl_* test skipped naming it" \
    tb_mpirun 2 "$TB" run "${common[@]}" -t "$ALL" --nccl-lib "$TB_NCCL_DOUBLE_2_1" -o "$WORK/old"
  expect_output "symbol ncclBroadcast missing \(added in NCCL 2.2" "the reason names the symbol"
fi

# Whatever this machine has (a real NCCL and no GPU here; no NCCL on others): exit 0.
expect_status 0 "the default library on a machine without a GPU: skipped, exit 0" \
  tb_mpirun 2 "$TB" run "${common[@]}" -t nccl_all_reduce -o "$WORK/default"
expect_output "nccl_all_reduce .*skipped: " "the default run says why it skipped"

# --- through the doubles ------------------------------------------------------------------
if [ -z "${TB_CUDA_DOUBLE:-}" ] || [ -z "${TB_NCCL_DOUBLE:-}" ]; then
  echo "no CUDA/NCCL doubles built: the runs through them are skipped"
  finish
  exit $?
fi
dbl=(-x TOPOBENCH_CUDA_LIB="$TB_CUDA_DOUBLE")
nccl=(--nccl-lib "$TB_NCCL_DOUBLE")

expect_status 0 "every nccl_* test runs through the doubles and checks its data (4 ranks)" \
  tb_mpirun 4 "${dbl[@]}" "$TB" run "${common[@]}" -t "$ALL" "${nccl[@]}" -n 3 --batches 3 \
  -o "$WORK/dbl"
cp "$WORK/out" "$WORK/dbl.out"
py_check "nccl-tests' table, column for column, for every collective" "$WORK/dbl.out" <<'PY'
import re, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1])]
# the result lines as nccl-tests parsers read them: 13 fields, the first the size
rows = [l.split() for l in lines if re.match(r"^\s*[0-9]+\s", l) and len(l.split()) == 13]
assert len(rows) == 7 * 6, len(rows)  # 7 collectives x sizes 8, 32, 128, 512, 2048, 4096
for r in rows:
    assert r[2] == "float" and r[3] in ("sum", "none") and r[8] == "0" and r[12] == "0", r
assert sum(1 for l in lines if l.startswith("# Avg bus bandwidth    : ")) == 7
assert sum(1 for l in lines if l == "#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong ") == 7
PY
py_check "results.json: one NCCL entry per collective, checked, with the library and its version" "$WORK/dbl/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in doc["tests"] if x["name"].startswith("nccl_")}
assert len(t) == 7, list(t)
for name, x in t.items():
    assert x["status"] == "ok" and x["backend"] == "nccl" and x["recv_memory"] == "device", x
    p = x["params"]
    assert p["nccl_version"] == "2.28.0" and p["ranks"] == 4 and p["comm_init_us"]["max"] > 0, p
    for r in x["results"]:
        assert r["checked"] and r["wrong"] == 0 and r["batches"] == 3 and r["iterations"] == 3, r
        assert r["time_us"]["mean"] > 0 and r["time_us"]["min"] <= r["time_us"]["mean"] <= r["time_us"]["max"], r
        assert r["algbw_gbps"] >= 0 and r["busbw_gbps"] >= 0, r
# nccl-tests' counts: all_gather at 4 KiB of floats on 4 ranks: 256 per rank, size 4096
ag = [r for r in t["nccl_all_gather"]["results"] if r["count"] == 256]
assert ag and ag[0]["size"] == 4096, t["nccl_all_gather"]["results"]
assert [r["root"] for r in t["nccl_broadcast"]["results"]][0] == 0
assert doc["run"]["nccl"]["used"] is True and doc["run"]["nccl"]["version"] == "2.28.0"
PY

expect_status 6 "a wrong element from NCCL is found (exit 6)" \
  tb_mpirun 3 "${dbl[@]}" -x TOPOBENCH_NCCL_DOUBLE_FAULT=wrong:1 "$TB" run "${common[@]}" \
  -t nccl_all_reduce,nccl_alltoall "${nccl[@]}" -n 2 --batches 2 -o "$WORK/wrong"
expect_output "data corruption: test 'nccl_all_reduce' \(float, sum\) size" "the wrong element is reported with test and size"
py_check "the wrong elements are in the document, on rank 1" "$WORK/wrong/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["exit_code"] == 6
for t in doc["tests"]:
    assert t["errors"] and all(e["rank"] == 1 and e["wrong"] == 1 for e in t["errors"]), t["errors"]
    # (alltoall's per-rank count is 0 below 16 bytes x 3 ranks: nothing to get wrong)
    assert all(r["wrong"] == (1 if r["count"] else 0) for r in t["results"]), t["results"]
PY
expect_status 6 "the fault switch's wrong byte in device memory is found" \
  tb_mpirun 2 "${dbl[@]}" -x TOPOBENCH_TEST_FAULT=corrupt:nccl_reduce_scatter:0 \
  -x TOPOBENCH_TEST_FAULT_CONFIRM=inject-faults-into-this-run "$TB" run "${common[@]}" \
  -t nccl_reduce_scatter "${nccl[@]}" -n 2 --batches 2 -o "$WORK/corrupt"

expect_status 0 "every type and operation, CUDA graphs, blocking mode, every root" \
  tb_mpirun 3 "${dbl[@]}" "$TB" run --no-progress -q -b 64 -e 1K -f 16 -n 2 --batches 2 \
  -t nccl_all_reduce,nccl_reduce -d all --op all -r all -G 2 "${nccl[@]}" -o "$WORK/all"
py_check "12 types x 5 ops x 3 roots, every result right" "$WORK/all/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = [x for x in doc["tests"] if x["name"] == "nccl_reduce"]
assert len(t) == 12 and all(x["status"] == "ok" for x in t), [(x["dtype"], x["status"]) for x in t]
assert {(r["redop"], r["root"]) for r in t[0]["results"]} == {(o, r) for o in ("sum", "prod", "max", "min", "avg") for r in (0, 1, 2)}
assert all(r["wrong"] == 0 for x in doc["tests"] for r in x["results"])
PY
expect_status 0 "blocking mode 3 with the slowest rank's time" \
  tb_mpirun 2 "${dbl[@]}" "$TB" run "${common[@]}" -q -t nccl_sendrecv -z 3 -a 3 "${nccl[@]}" \
  -n 2 --batches 2 -o "$WORK/z3"

if [ -n "${TB_NCCL_DOUBLE_2_6:-}" ]; then
  expect_status 0 "NCCL 2.6: alltoall and sendrecv skipped naming the call, the others run" \
    tb_mpirun 2 "${dbl[@]}" "$TB" run "${common[@]}" -t "$ALL" --nccl-lib "$TB_NCCL_DOUBLE_2_6" \
    -n 2 --batches 2 -o "$WORK/v26"
  py_check "the skips name ncclAlltoAll and ncclSend" "$WORK/v26/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in doc["tests"]}
assert t["nccl_alltoall"]["status"] == "skipped" and "ncclAlltoAll (added in NCCL 2.28)" in t["nccl_alltoall"]["skip_reason"]
assert t["nccl_sendrecv"]["status"] == "skipped" and "ncclSend (added in NCCL 2.7)" in t["nccl_sendrecv"]["skip_reason"]
assert t["nccl_all_reduce"]["status"] == "ok" and t["nccl_all_reduce"]["params"]["nccl_version"] == "2.6.4"
PY
fi

expect_status 0 "the CUDA double with no device: skipped, exit 0" \
  tb_mpirun 2 "${dbl[@]}" -x TOPOBENCH_DOUBLE_DEVICES=0 "$TB" run "${common[@]}" \
  -t nccl_all_reduce "${nccl[@]}" -o "$WORK/nodev"
expect_output "nccl_all_reduce .*skipped: .*(no GPU|device)" "the reason says there is no GPU"

# --gpus: NCCL runs on the GPU the run mapped (the same as every other test), and refuses
# ranks that share one.
expect_status 0 "--gpus 3,1: NCCL on the mapped GPUs" \
  tb_mpirun 2 "${dbl[@]}" "$TB" run "${common[@]}" -t nccl_all_reduce "${nccl[@]}" --gpus 3,1 \
  --no-analyze -o "$WORK/mapped"
py_check "ranks record GPUs 3 and 1 and the NCCL test ran" "$WORK/mapped/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert [r["gpu"]["index"] for r in doc["ranks"]] == [3, 1], doc["ranks"]
t = [x for x in doc["tests"] if x["name"] == "nccl_all_reduce"][0]
assert t["status"] == "ok", t.get("skip_reason")
PY
expect_status 0 "--gpus 0,0: ranks sharing a GPU, NCCL skipped" \
  tb_mpirun 2 "${dbl[@]}" "$TB" run "${common[@]}" -t nccl_all_reduce "${nccl[@]}" --gpus 0,0 \
  --no-analyze -o "$WORK/shared"
expect_output "share a GPU" "the reason says the ranks share a GPU"

# What NCCL saw: the double writes recorded dumps where NCCL would; the node's discovered
# topology is the original OCI dump, NCCL's misses a NIC and sees GPU7 elsewhere, and its
# ring takes a NIC SYS away from GPU0 while PXB ones exist.
F=$TB_FIXTURES_DIR/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml
if [ -f "$F" ]; then
  sed -e 's/busid="0000:da:00.0"/busid="0000:db:00.0"/' -e '/mlx5_33/d' "$F" >"$WORK/nccl-topo.xml"
  cat >"$WORK/nccl-graph.xml" <<'XML'
<graphs version="1">
  <graph id="0" pattern="4" crossnic="0" nchannels="1" speedintra="40" speedinter="12" typeintra="NVL" typeinter="SYS">
    <channel><net dev="8"/><gpu dev="0"/><gpu dev="1"/><net dev="8"/></channel>
  </graph>
</graphs>
XML
  expect_status 0 "NCCL's topology and graphs are read into the node's entry" \
    tb_mpirun 2 "${dbl[@]}" -x TOPOBENCH_TOPO_FILE="$F" -x TOPOBENCH_NCCL_DOUBLE_TOPO="$WORK/nccl-topo.xml" \
    -x TOPOBENCH_NCCL_DOUBLE_GRAPH="$WORK/nccl-graph.xml" "$TB" run "${common[@]}" -q \
    -t nccl_all_reduce "${nccl[@]}" -n 2 --batches 2 -o "$WORK/view"
  py_check "hosts[].nccl and the findings where NCCL's view differs" "$WORK/view/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
n = doc["hosts"][0]["nccl"]
assert n["graphs"][0]["pattern_name"] == "ring" and n["graphs"][0]["channels"][0]["nets"] == [8, 8]
assert n["topology"] and n["rank"] == 0, n.keys()
codes = {(f["code"], f["object"]) for f in doc["findings"]}
for want in [("nccl_nic_unused", "mlx5_33"), ("nccl_gpu_unused", "GPU7"), ("nccl_nic_far", "mlx5_32")]:
    assert want in codes, (want, codes)
PY
fi

finish
