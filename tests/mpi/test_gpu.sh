#!/usr/bin/env bash
# GPU memory in every test, without a GPU: every GPU test is a skip with its reason said
# once (no runtime, a runtime without a device, a runtime missing a symbol), and with the
# CUDA runtime double (tests/gpudouble) every point-to-point and collective test runs on
# device, pinned and managed memory, stages device buffers through pinned host memory
# (Open MPI here is not CUDA-aware), checks the data and finds an injected wrong element.
. "$(dirname "$0")/common.sh"
DOUBLE=${TB_CUDA_DOUBLE:?the double is built with the tests (tests/CMakeLists.txt)}
NOSYM=${TB_CUDA_DOUBLE_NOSYM:?}
common=(--suite quick -e 1K -m 4K -T 2ms --no-progress --no-analyze)

# --- skips ---------------------------------------------------------------------------
# CPU-only: whatever this machine has (no libcudart, or one without a driver), exit 0.
expect_status 0 "--mem device without a GPU exits 0" \
  tb_mpirun 4 "$TB" run "${common[@]}" --mem device -o "$WORK/nogpu"
expect_output "every GPU test skipped \(--mem device,device\): " "the reason is printed"
n=$(grep -c "every GPU test skipped" "$WORK/out")
if [ "$n" = 1 ]; then pass "the reason is printed once"; else fail "printed $n times"; fi
py_check "every test is a skip with the reason, memory kinds recorded" "$WORK/nogpu/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema_version"] == 3 and doc["status"] == "success", doc["status"]
tests = doc["tests"]
names = {t["name"] for t in tests}
assert {"latency", "bw", "bibw", "all_reduce", "all_gather", "reduce_scatter", "broadcast",
        "alltoall", "matrix", "node_matrix"} <= names, names
for t in tests:
    assert t["status"] == "skipped" and t["skip_reason"], t
    assert not t["results"], t
# The MPI tests run on --mem; other GPU tests (gpu_copy) choose their own memory.
mem = [t for t in tests if t["backend"] == "mpi"]
assert len(mem) >= 10, [t["name"] for t in tests]
for t in mem:
    assert t["send_memory"] == "device" and t["recv_memory"] == "device", t
assert len({t["skip_reason"] for t in mem}) == 1
cuda = doc["run"]["cuda"]
assert cuda.get("usable") is not True, cuda
assert doc["run"]["options"]["mem"] == ["device", "device"]
assert all(r["gpu"] is None for r in doc["ranks"]), doc["ranks"]
PY

expect_status 0 "a library that is not there: skipped" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB=/nonexistent/libcudart.so.13 "$TB" run "${common[@]}" \
  --mem device -t latency,all_reduce -o "$WORK/nolib"
expect_output "/nonexistent/libcudart.so.13: cannot open shared object file" \
  "the library is named with the loader's reason"
expect_status 0 "a runtime without a device: skipped" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$DOUBLE" -x TOPOBENCH_DOUBLE_DEVICES=0 "$TB" run \
  "${common[@]}" --mem device -t latency -o "$WORK/nodev"
expect_output "no CUDA-capable device is detected \(error 100\)" "the runtime's own reason"
expect_status 0 "a runtime missing a symbol: skipped" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$NOSYM" "$TB" run "${common[@]}" --mem device \
  -t all_reduce -o "$WORK/nosym"
expect_output "symbol cudaEventElapsedTime missing" "the missing symbol is named"
# Host memory needs no GPU: the run measures and records what it found.
expect_status 0 "host memory with no usable GPU measures as before" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$DOUBLE" -x TOPOBENCH_DOUBLE_DEVICES=0 "$TB" run \
  "${common[@]}" -t latency -o "$WORK/host"
py_check "host run: measured, and the runtime recorded" "$WORK/host/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = doc["tests"][0]
assert t["status"] == "ok" and t["results"] and t["transfer"] == "direct", t
c = doc["run"]["cuda"]
assert c["loaded"] and c["devices"] == 0 and not c["usable"] and "error 100" in c["reason"], c
assert c["runtime_version"] == "13.0" and c["driver_version"] == "13.0", c
PY

# --- the double: device memory, staged -------------------------------------------------
expect_status 0 "--mem device with the double runs every test" \
  tb_mpirun 4 -x TOPOBENCH_CUDA_LIB="$DOUBLE" -x NCCL_DEBUG=WARN -x UCX_TLS=self,sm \
  "$TB" run "${common[@]}" --mem device -t latency,bw,bibw,all_reduce,all_gather,reduce_scatter,broadcast,alltoall \
  -o "$WORK/dev"
expect_output "# all_reduce \(device-staged-float\)" "the table says device memory, staged"
py_check "device memory: every entry measured, staged and checked" "$WORK/dev/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "success", doc["status"]
tests = doc["tests"]
assert len(tests) == 9, [t["name"] for t in tests]
for t in tests:
    assert t["status"] == "ok", t
    assert (t["send_memory"], t["recv_memory"], t["transfer"]) == ("device", "device", "staged"), t
    assert t["results"] and all(r["checked"] and r["wrong"] == 0 for r in t["results"]), t
c = doc["run"]["cuda"]
assert c["usable"] and c["devices"] == 4 and "gpudouble" in c["library"], c
assert doc["run"]["mpi_cuda_aware"]["aware"] is False, doc["run"]["mpi_cuda_aware"]
env = doc["run"]["environment"]
assert env["NCCL_DEBUG"] == "WARN" and env["UCX_TLS"] == "self,sm", env
assert any(k.startswith("OMPI_") for k in env), env
gpus = [r["gpu"] for r in doc["ranks"]]
assert [g["index"] for g in gpus] == [0, 1, 2, 3], gpus
assert len({g["busid"] for g in gpus}) == 4 and len({g["uuid"] for g in gpus}) == 4, gpus
assert gpus[1]["busid"] == "0000:38:00.0" and gpus[1]["uuid"].startswith("GPU-"), gpus
# The double's devices are not in this node's topology: said, not invented.
assert all(g["numa"] is None and g["topology_object"] is None and g["note"] for g in gpus)
PY

# The all-pairs matrices and the isolated pairs on device memory, staged.
expect_status 0 "matrices on device memory" \
  tb_mpirun 3 -x TOPOBENCH_CUDA_LIB="$DOUBLE" "$TB" run "${common[@]}" --mem device \
  -t matrix,node_matrix -p 0-2 -o "$WORK/mat"
py_check "matrices: measured on device memory, staged, checked" "$WORK/mat/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ents = {t["name"]: t for t in doc["tests"]}
for name in ("matrix", "isolated"):
    t = ents[name]
    assert t["status"] == "ok" and not t["errors"], t
    assert (t["send_memory"], t["recv_memory"], t["transfer"]) == ("device", "device", "staged"), t
m = ents["matrix"]["matrix"]
assert all(m["recv_gbps"][i][j] > 0 for i in range(3) for j in range(3) if i != j), m["recv_gbps"]
assert all(m["latency_us"][i][j] > 0 for i in range(3) for j in range(3) if i != j), m
assert ents["isolated"]["matrix"]["pairs"][0]["bw_gbps"] > 0
assert ents["node_matrix"]["status"] == "skipped"  # one node
PY
expect_status 6 "a wrong element in a matrix round on device memory is found" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$DOUBLE" -x TOPOBENCH_DOUBLE_FAULT=corrupt_d2h:1 \
  "$TB" run "${common[@]}" --mem device -t matrix -o "$WORK/matfault" -q
expect_output "data corruption: test 'matrix'" "the matrix corruption is reported"

# An injected wrong element on one rank's device-to-host copies is found.
expect_status 6 "a wrong element from the device is found" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$DOUBLE" -x TOPOBENCH_DOUBLE_FAULT=corrupt_d2h:1 \
  "$TB" run "${common[@]}" --mem device -t latency,all_reduce -o "$WORK/fault" -q
expect_output "data corruption: test 'latency'" "the corruption is reported"
py_check "the errors are in the document" "$WORK/fault/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["status"] == "data corruption" and doc["exit_code"] == 6
for t in doc["tests"]:
    assert t["status"] == "data corruption" and t["errors"], t
PY

# Per side (OSU's D H), pinned and managed memory (host-accessible: no staging), --gpus.
expect_status 0 "--mem device,host for point-to-point" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$DOUBLE" "$TB" run "${common[@]}" --mem device,host \
  -t latency,bw -o "$WORK/dh"
expect_output "# latency \(device-host-staged-intra-node\)" "the label names both kinds"
for kind in pinned managed; do
  expect_status 0 "--mem $kind" \
    tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$DOUBLE" "$TB" run "${common[@]}" --mem $kind \
    -t bw,all_reduce -o "$WORK/$kind"
  py_check "$kind: measured directly" "$WORK/$kind/results.json" "$kind" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); kind = sys.argv[2]
for t in doc["tests"]:
    assert t["status"] == "ok" and t["transfer"] == "direct", t
    assert t["send_memory"] == kind == t["recv_memory"], t
PY
done
expect_status 0 "--gpus maps local ranks to devices after CUDA_VISIBLE_DEVICES" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$DOUBLE" -x CUDA_VISIBLE_DEVICES=3,2,1 "$TB" run \
  "${common[@]}" --mem device --gpus 2,0 -t latency -o "$WORK/map"
py_check "rank 0 on visible 2 (physical 1), rank 1 on visible 0 (physical 3)" "$WORK/map/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
g = [r["gpu"] for r in doc["ranks"]]
assert (g[0]["index"], g[0]["busid"]) == (2, "0000:38:00.0"), g
assert (g[1]["index"], g[1]["busid"]) == (0, "0000:78:00.0"), g
assert doc["run"]["environment"]["CUDA_VISIBLE_DEVICES"] == "3,2,1"
assert doc["run"]["options"]["gpus"] == [2, 0]
PY
expect_status 2 "--gpus naming a device that is not there is a usage error" \
  tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$DOUBLE" "$TB" run "${common[@]}" --mem device \
  --gpus 7 -t latency -o "$WORK/badmap"
expect_output "--gpus: device 7 does not exist \(4 visible devices" "the bad index is named"
expect_status 2 "--mem with an unknown kind" "$TB" run --mem gpu -o "$WORK/badmem"
expect_output "--mem 'gpu': expected KIND or SEND,RECEIVE" "the accepted kinds are named"
finish
