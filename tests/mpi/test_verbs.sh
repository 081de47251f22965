#!/usr/bin/env bash
# The verbs tests and the gdr verdict with the real binary, where there is no HCA (CI, the
# development machines): every one skips with its reason and exit 0; a bad --hca or
# --gid-index is a clear error with the usage exit status. The recorded sysfs tree
# (tests/data/sysfs_rdma) stands in for /sys/class/infiniband where a name must exist.
. "$(dirname "$0")/common.sh"
DATA=${TB_TEST_DATA_DIR:?}
RDMA=$DATA/sysfs_rdma

if [ -n "$(ls /sys/class/infiniband 2>/dev/null)" ]; then
  echo "this machine has RDMA devices: the skip checks do not apply"; exit 77; fi

# No RDMA device: each test skips with the reason, exit 0.
expect_status 0 "no HCA: verbs tests and gdr skip" tb_mpirun 2 "$TB" run --no-progress \
  -t verbs_write_bw,verbs_read_bw,verbs_send_bw,verbs_write_lat,verbs_send_lat,verbs_matrix,gdr \
  -o "$WORK/none"
expect_output "verbs_write_bw \(verbs-intra-node\): skipped: [^ ]+: no RDMA device" "write bw says why"
expect_output "verbs_send_lat \(verbs-intra-node\): skipped: [^ ]+: no RDMA device" "send lat says why"
expect_output "gdr \(verbs-device-node\): skipped: gdr: not available: no RDMA device" "gdr says not available"
DOC=$WORK/none/results.json py_check "results.json: every verbs entry skipped with its reason, the gdr verdict recorded" - <<'PY'
import json, os
d = json.load(open(os.environ["DOC"]))
t = {e["name"]: e for e in d["tests"]}
for n in ["verbs_write_bw", "verbs_read_bw", "verbs_send_bw", "verbs_write_lat", "verbs_send_lat", "verbs_matrix", "gdr"]:
    assert t[n]["status"] == "skipped", (n, t[n]["status"])
    assert t[n]["backend"] == "verbs", n
assert "no RDMA device" in t["verbs_write_bw"]["skip_reason"]
assert t["verbs_matrix"]["skip_reason"].endswith("needs two nodes"), t["verbs_matrix"]["skip_reason"]
v = t["gdr"]["verdicts"]
assert len(v) == 1 and v[0]["status"] == "not_available", v
assert v[0]["reasons"][0]["code"] == "no_rdma_device", v
assert v[0]["line"].startswith("gdr: not available: no RDMA device"), v
assert d["run"]["options"]["verbs"] == {"hca": None, "gid_index": -1, "qps": 1, "tx_depth": 128, "tclass": 0, "sl": 0}
PY
# A GPU (the CUDA runtime double) but no HCA: the verdict names the missing RDMA device.
if [ -n "${TB_CUDA_DOUBLE:-}" ]; then
  expect_status 0 "GPU without HCA" tb_mpirun 2 -x TOPOBENCH_CUDA_LIB="$TB_CUDA_DOUBLE" "$TB" run \
    --no-progress --no-analyze -t gdr -o "$WORK/gpu"
  expect_output "gdr \(verbs-device-node\): skipped: gdr: not available: no RDMA device" "GPU without HCA: no RDMA device"
fi

# The tables of verbs rows and gdr verdicts, rendered offline from a document whose rows
# are written here (made-up figures, not a measurement: no HCA here).
python3 - "$WORK/none/results.json" "$WORK/made.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["tests"]:
    if t["name"] == "verbs_write_bw":
        t["status"] = "ok"; t.pop("skip_reason", None)
        t["results"] = [{"size": 65536, "count": 65536, "iterations": 5000, "warmup": 500,
                         "checked": True, "time_us": {}, "bw_gbps": 26.2144,
                         "bw_gbit": 209.7152, "msg_rate_mpps": 0.4, "wrong": 0}]
    if t["name"] == "verbs_send_lat":
        t["status"] = "ok"; t.pop("skip_reason", None)
        t["results"] = [{"size": 8, "count": 8, "iterations": 1000, "warmup": 100,
                         "checked": False, "time_us": {"mean": 1.25}, "wrong": 0}]
    if t["name"] == "verbs_matrix":
        # A failed transfer of a round: an errors[] entry naming the pair and the error.
        t["status"] = "internal error"; t.pop("skip_reason", None)
        t["errors"] = [{"size": 65536, "measurement": "transfer", "round": 1, "rank": 1,
                        "host": "n1", "from_rank": 0, "from_host": "n0",
                        "error": "completion error: transport retry counter exceeded (status 12, vendor error 0x81)"}]
    if t["name"] == "gdr":
        t["status"] = "ok"; t.pop("skip_reason", None)
        t["verdicts"][0].update({"status": "works", "method": "dmabuf", "gpu": "GPU0 0000:05:00.0",
            "nic": "mlx5_0:1", "path": "SYS", "ratio": 0.5, "gdr_write_gbps": 10.0,
            "host_write_gbps": 20.0,
            "line": "gdr: works (dmabuf), 10.00 GB/s = 50% of host-memory RDMA (20.00 GB/s)",
            "reasons": [{"code": "path_far", "text": "GPU-NIC path SYS: works but slow"}]})
json.dump(d, open(sys.argv[2], "w"))
PY
expect_status 0 "report of verbs rows and gdr verdicts" "$TB" report "$WORK/made.json" -o "$WORK/made"
expect_output "^# Size +Iterations +BW\(Gb/s\) +BW\(GB/s\) +MsgRate\(Mpps\)" "verbs bandwidth table in both units"
expect_output "^65536 +5000 +209\.72 +26\.2" "verbs bandwidth row"
expect_output "^8 +1000 +1\.25" "verbs latency row (half round trip)"
expect_output "[^ ]+ GPU0 0000:05:00.0 <-> mlx5_0:1 \(SYS\): gdr: works \(dmabuf\), 10.00 GB/s = 50% of host-memory RDMA" "gdr verdict line"
expect_output "^    path_far: GPU-NIC path SYS: works but slow" "gdr reason line"
expect_output "^#   size 65536 rank 1 \(n1\) transfer from rank 0 round 1: completion error: transport retry counter exceeded" "verbs_matrix: the failed pair and its error"

# One rank: the pair tests need a second rank; the reason still names the missing HCA.
expect_status 0 "one rank" tb_mpirun 1 "$TB" run --no-progress -t verbs_write_bw,gdr -o "$WORK/one"
expect_output "skipped: no RDMA device on this node, and the test needs two ranks" "one rank: both reasons"
expect_output "gdr: not available: no RDMA device" "one rank: gdr verdict"

# A recorded tree that names devices libibverbs does not list: a skip with that reason.
export TOPOBENCH_SYSFS_ROOT=$RDMA
expect_status 0 "devices in sysfs, none in libibverbs" tb_mpirun 2 -x TOPOBENCH_SYSFS_ROOT "$TB" run \
  --no-progress --no-analyze --hca mlx5_1:1 -t verbs_write_bw,gdr -o "$WORK/fake"
expect_output "verbs_write_bw .*skipped: .*(libibverbs lists none|libibverbs does not list mlx5_1)" "libibverbs's view is the reason"

# Bad names: a clear error naming the device (and those there are) or the GID, exit 2.
expect_status 2 "unknown --hca device" tb_mpirun 2 -x TOPOBENCH_SYSFS_ROOT "$TB" run --no-progress \
  --no-analyze --hca mlx5_9 -t verbs_write_bw -o "$WORK/bad1"
expect_output "--hca mlx5_9: no RDMA device 'mlx5_9' on this node \(it has: mlx5_0, mlx5_1, mlx5_2, mlx5_3\)" "unknown device named with the existing ones"
expect_status 2 "unknown --hca port" tb_mpirun 2 -x TOPOBENCH_SYSFS_ROOT "$TB" run --no-progress \
  --no-analyze --hca mlx5_0:3 -t gdr -o "$WORK/bad2"
expect_output "--hca mlx5_0:3: mlx5_0 has no port 3" "missing port named"
expect_status 2 "unused GID index" tb_mpirun 2 -x TOPOBENCH_SYSFS_ROOT "$TB" run --no-progress \
  --no-analyze --hca mlx5_1 --gid-index 6 -t verbs_read_bw -o "$WORK/bad3"
expect_output "--gid-index 6: mlx5_1 port 1 has no GID 6" "unused GID named"
unset TOPOBENCH_SYSFS_ROOT
expect_status 2 "malformed --hca" tb_mpirun 1 "$TB" run --hca mlx5_0:z -t gdr -o "$WORK/bad4"
expect_output "--hca 'mlx5_0:z': the port after ':' must be a number 1-255" "malformed port explained"
expect_status 2 "--qps out of range" tb_mpirun 1 "$TB" run --qps 0 -t verbs_write_bw -o "$WORK/bad5"
expect_status 2 "--sl out of range" tb_mpirun 1 "$TB" run --sl 16 -t verbs_write_lat -o "$WORK/bad6"
expect_status 2 "--tclass out of range" tb_mpirun 1 "$TB" run --tclass 256 -t verbs_write_lat -o "$WORK/bad7"
expect_status 0 "help lists the verbs options" "$TB" run --help
for opt in hca gid-index qps tx-depth tclass sl; do
  grep -q -- "--$opt" "$WORK/out" || fail "help lacks --$opt"
done
expect_output "gdr +does GPUDirect RDMA work" "help lists gdr"
finish
