#!/usr/bin/env bash
# Every test kind at 2 and 4 ranks: exit status, a valid document, sane numbers, and the
# shapes that the schema promises (docs/results-schema.md).
. "$(dirname "$0")/common.sh"

for np in 2 4; do
  out="$WORK/np$np"
  expect_status 0 "quick suite, all tests, $np ranks" \
    tb_mpirun "$np" "$TB" run --suite quick -e 64K -m 64K -T 5ms -o "$out" --no-progress
  expect_output "results in $out/results.json" "$np ranks: says where the results went"
  py_check "$np ranks: document content" "$out/results.json" "$np" <<'PY'
import json, sys, math
doc = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert doc["schema"] == "topobench-results" and doc["schema_version"] == 3
assert doc["complete"] is True and doc["status"] == "success" and doc["exit_code"] == 0
run = doc["run"]
assert run["nranks"] == n and run["nnodes"] == 1, run
for k in ("start_time", "end_time", "command_line", "topobench_version", "git_hash",
          "mpi_library", "hwloc_version", "build", "options"):
    assert k in run, k
assert len(doc["hosts"]) == 1 and doc["hosts"][0]["ranks"] == list(range(n))
topo = doc["hosts"][0]["topology"]
assert topo and topo["source"] == "live" and topo["hostname"], topo
assert any("nvml" in note for note in topo["notes"]), topo["notes"]
assert [r["rank"] for r in doc["ranks"]] == list(range(n))
# The default tests include the nccl_* ones: on a machine without a GPU (or NCCL) they
# are skipped with the reason, one entry each (tests/mpi/test_nccl.sh runs them).
nccl = [t for t in doc["tests"] if t["backend"] == "nccl"]
assert len(nccl) == 7 and all(t["status"] in ("skipped", "ok") for t in nccl), nccl
mpi_tests = [t for t in doc["tests"] if t["backend"] != "nccl"]
tests = {(t["name"], t["placement"] or t["level"] or t["dtype"]): t for t in mpi_tests}
# Entries are keyed by explicit fields, never by one overloaded string.
# The GPU copy matrix is in the default selection: skipped on a machine without a CUDA
# runtime or device, with the reason (tests/mpi/test_gpu_copy.sh runs it on the double).
gc = tests.pop(("gpu_copy", "node"))
assert gc["backend"] == "cuda" and gc["kind"] == "gpu_copy", gc
assert gc["status"] == "ok" or (gc["status"] == "skipped" and gc["skip_reason"]), gc
for t in mpi_tests:
    assert "variant" not in t, t["name"]
    if t["name"] == "gpu_copy":
        continue
    assert (t["backend"], t["send_memory"], t["recv_memory"]) == ("mpi", "host", "host"), t["name"]
    assert t["dtype"] in ("byte", "float", "double"), t["name"]
    assert (t["placement"] is not None) == (t["kind"] == "p2p"), t["name"]
    assert (t["level"] is not None) == (t["kind"] == "matrix"), t["name"]
want = [("latency", "intra-node"), ("bw", "intra-node"), ("bibw", "intra-node"),
        ("all_reduce", "float"), ("all_reduce", "double"), ("all_gather", "float"),
        ("reduce_scatter", "float"), ("broadcast", "float"), ("alltoall", "float"),
        ("matrix", "rank"), ("node_matrix", "node")]
for key in want:
    assert key in tests, key
assert tests[("node_matrix", "node")]["status"] == "skipped"
sizes = [8, 32, 128, 512, 2048, 8192, 32768, 65536]
for key, t in tests.items():
    if t["kind"] == "matrix":
        continue
    assert t["status"] == "ok", (key, t["status"])
    rows = t["results"]
    inplace = {False, True} if key[0] in ("all_reduce", "all_gather", "reduce_scatter", "alltoall") else {False}
    assert sorted({r["size"] for r in rows}) == sizes, (key, [r["size"] for r in rows])
    assert {r["in_place"] for r in rows} == inplace, key
    for r in rows:
        tu = r["time_us"]
        assert 0 < tu["min"] <= tu["median"] <= tu["p99"] <= tu["max"], (key, tu)
        assert r["iterations"] >= 5 and r["wrong"] == 0 and r["checked"] is True
        # The headline is OSU's: the mean; the bandwidths derive from it.
        assert tu["min"] <= tu["mean"] <= tu["max"], (key, tu)
        # Every iteration timed alone, never in batches (OSU 7's method): a batch of a
        # collective that does not synchronise (broadcast) measures the root's issue rate.
        assert r["batch"] == 1 and r["samples"] == r["iterations"], (key, r)
        if t["kind"] == "collective":
            # OSU's Min/Max Latency: the fastest and slowest rank's own mean, around
            # the mean over ranks.
            eps = 1e-9 * tu["mean"]
            assert tu["fastest_rank"] - eps <= tu["mean"] <= tu["slowest_rank"] + eps, (key, tu)
            factor = {"all_reduce": 2 * (n - 1) / n, "broadcast": 1}.get(key[0], (n - 1) / n)
            assert math.isclose(r["busbw_gbps"], r["algbw_gbps"] * factor, rel_tol=1e-9), key
            mult = n if key[0] in ("all_gather", "reduce_scatter", "alltoall") else 1
            want_alg = r["size"] * mult / (tu["mean"] * 1e-6) / 1e9
            assert math.isclose(r["algbw_gbps"], want_alg, rel_tol=1e-6), (key, r)
        elif key[0] != "latency":
            w = 2 if key[0] == "bibw" else 1
            want_bw = w * r["size"] * 64 / (tu["mean"] * 1e-6) / 1e9
            assert math.isclose(r["bw_gbps"], want_bw, rel_tol=1e-6), (key, r)
m = tests[("matrix", "rank")]["matrix"]
assert m["ranks"] == list(range(n)) and len(m["labels"]) == n
assert m["rounds"] == n - 1 and len(m["repetitions"]) == n - 1 and min(m["repetitions"]) >= 3
assert m["window"] == 64 and tests[("matrix", "rank")]["errors"] == []  # 64 KiB: the --window cap
for name in ("recv_gbps", "recv_cv", "send_gbps", "send_cv", "latency_us"):
    mat = m[name]
    assert len(mat) == n and all(len(row) == n for row in mat)
    for i in range(n):
        for j in range(n):
            v = mat[i][j]
            assert (v is None) == (i == j), (name, i, j, v)
            assert v is None or (v >= 0 if name.endswith("_cv") else v > 0), (name, v)
PY
  if ls "$out"/*.csv >/dev/null 2>&1; then pass "$np ranks: CSV files written"; else
    fail "$np ranks: no CSV files in $out"; fi
done

# Two nodes are needed for inter-node pairs; on one node they are not listed at all.
finish
