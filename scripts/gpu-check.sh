#!/usr/bin/env bash
# On one GPU node: builds topobench with the CUDA toolkit, runs every GPU test on this
# node's GPUs and prints a summary, all within a time budget (default 8 minutes):
#   1. build (cmake, TB_WITH_CUDA=ON);
#   2. memory kinds: latency, bw and all_reduce over MPI with --mem device, pinned,
#      managed, and point-to-point device,host (2 ranks);
#   3. the NCCL tests (every nccl_* test `topobench run --help` lists), one rank per GPU,
#      8 B to 1 GiB;
#   4. the node's GPU copy matrix (gpu_copy, one rank driving every GPU);
#   5. the reference: cudaMemcpy timed by hand (bench/perf/ref_memcpy.c, compiled here)
#      host->device and device->host per GPU, host memory on the GPU's NUMA node (numactl
#      where installed), set against gpu_copy's cells of that NUMA node (target: within
#      5%);
#   6. where NCCL_TESTS_DIR names nccl-tests binaries built outside the repository,
#      all_reduce_perf beside topobench's nccl_all_reduce: busbw ratio at 64 MiB and
#      above (target: within 3%).
# Each step runs under `timeout` with what is left of the budget; a step that fails or
# runs out of time is reported and the others still run.
#
# Usage: bash scripts/gpu-check.sh [-o DIR] [-B BUILD] [-t SECONDS] [-s COPY_SIZE] [-n]
#   -o DIR        where the runs' results go (default: gpu-check-YYYYMMDD-HHMMSS)
#   -B BUILD      build directory (default build-gpu)    -n  use BUILD as it is (no build)
#   MPIRUN_ARGS   extra mpirun options for every run
#   -t SECONDS    time budget (default 480)
#   -s SIZE       gpu_copy's --copy-size (default 512M, nvbandwidth's)
#   -e SIZE       largest NCCL size (default 1G)
#   -g N          GPUs to use (default: as many as nvidia-smi -L lists, else 1)
#   CUDA_HOME     the toolkit (default /usr/local/cuda)
#   NCCL_TESTS_DIR   directory holding all_reduce_perf (optional)
#   TOPOBENCH_CUDA_LIB, TOPOBENCH_NCCL_LIB   as for topobench (the tests' doubles too)
# Exit status: 0 when every step ran and passed its check, 1 otherwise, 4 when a tool is
# missing (cmake, mpirun, python3).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
budget=480
out=""
build=build-gpu
nobuild=0
copy_size=512M
nccl_max=1G
ngpu=0
while getopts "o:B:t:s:e:g:nh" opt; do
    case $opt in
        o) out=$OPTARG ;;
        B) build=$OPTARG ;;
        t) budget=$OPTARG ;;
        s) copy_size=$OPTARG ;;
        e) nccl_max=$OPTARG ;;
        g) ngpu=$OPTARG ;;
        n) nobuild=1 ;;
        h) sed -n '2,32p' "$0"; exit 0 ;;
        *) exit 2 ;;
    esac
done
cuda=${CUDA_HOME:-/usr/local/cuda}
out=${out:-gpu-check-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" || exit 4
out=$(cd "$out" && pwd)
start=$SECONDS
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

for t in cmake mpirun python3 timeout; do
    command -v "$t" >/dev/null 2>&1 || { echo "gpu-check: $t not found" >&2; exit 4; }
done

declare -a steps=()   # "name|status|seconds|log"
failed=0
left() { echo $((budget - (SECONDS - start))); }
# step NAME LOG CMD...: runs CMD under the time left, records how it ended.
step() {
    local name=$1 log=$2 t0=$SECONDS rc status
    shift 2
    local t
    t=$(left)
    if [ "$t" -le 5 ]; then
        steps+=("$name|not run (budget spent)|0|$log")
        failed=1
        return 1
    fi
    echo "gpu-check: $name (at most ${t}s left)"
    timeout --kill-after=10 "$t" "$@" >"$log" 2>&1
    rc=$?
    case $rc in
        0) status=ok ;;
        124|137) status="timed out"; failed=1 ;;
        *) status="exit $rc"; failed=1 ;;
    esac
    steps+=("$name|$status|$((SECONDS - t0))|$log")
    [ "$rc" = 0 ]
}

# 1. build
case $build in /*) ;; *) build=$root/$build ;; esac
tb=$build/bench/topobench
if [ "$nobuild" = 0 ]; then
    step build "$out/build.log" bash -c "cmake -S '$root' -B '$build' -DTB_WERROR=ON \
        -DTB_WITH_CUDA=ON -DCMAKE_BUILD_TYPE=Release && cmake --build '$build' -j$(nproc)"
fi
if [ ! -x "$tb" ]; then
    echo "gpu-check: no topobench at $tb (see $out/build.log)" >&2
    exit 1
fi

# GPUs on this node: nvidia-smi where installed, else one.
if [ "$ngpu" -lt 1 ] && command -v nvidia-smi >/dev/null 2>&1; then
    ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU') || ngpu=0
fi
[ "$ngpu" -ge 1 ] || ngpu=1
gpus_of() { # gpus_of NP: a --gpus list of NP entries over the node's GPUs
    local np=$1 i list=""
    for ((i = 0; i < np; i++)); do list+="${list:+,}$((i % ngpu))"; done
    echo "$list"
}
run=(--no-progress --no-analyze)

# 2. memory kinds over MPI
for mem in device pinned managed; do
    step "mem $mem" "$out/mem-$mem.log" mpirun ${MPIRUN_ARGS:-} -np 2 "$tb" run -s quick -t latency,bw,all_reduce \
        --mem "$mem" --gpus "$(gpus_of 2)" "${run[@]}" -o "$out/mem-$mem"
done
step "mem device,host" "$out/mem-device-host.log" mpirun ${MPIRUN_ARGS:-} -np 2 "$tb" run -s quick -t latency,bw \
    --mem device,host --gpus "$(gpus_of 2)" "${run[@]}" -o "$out/mem-device-host"

# 3. NCCL: every nccl_* test this topobench has, one rank per GPU
nccl_tests=$("$tb" run --help 2>/dev/null | sed -n '/^Tests:/,/^Default/p' |
    grep -oE '\<nccl_[a-z_]+' | sort -u | paste -sd, -)
if [ -n "$nccl_tests" ]; then
    step "nccl" "$out/nccl.log" mpirun ${MPIRUN_ARGS:-} -np "$ngpu" "$tb" run -t "$nccl_tests" -b 8 -e "$nccl_max" -f 4 \
        "${run[@]}" -o "$out/nccl"
else
    steps+=("nccl|no nccl_* test in this topobench|0|-")
fi

# 4. the copy matrix: one rank drives every GPU of the node
step "gpu_copy" "$out/gpu_copy.log" mpirun ${MPIRUN_ARGS:-} -np 1 "$tb" run -t gpu_copy --copy-size "$copy_size" \
    "${run[@]}" -o "$out/gpu_copy"

# 5. the hand-timed reference, per GPU, host memory on the GPU's NUMA node
ref=$out/ref_memcpy
bytes=$(python3 -c "import sys; s=sys.argv[1]; m={'K':1<<10,'M':1<<20,'G':1<<30}; \
print(int(s[:-1])*m[s[-1].upper()] if s[-1].upper() in m else int(s))" "$copy_size")
if step "ref_memcpy build" "$out/ref_build.log" cc -O2 -I"$cuda/include" -o "$ref" \
    "$root/bench/perf/ref_memcpy.c" -L"$cuda/lib64" -Wl,-rpath,"$cuda/lib64" -lcudart; then
    # Each GPU's CUDA ordinal and NUMA node, as gpu_copy recorded them.
    python3 - "$out/gpu_copy/results.json" >"$out/ref_targets" 2>/dev/null <<'PY' || true
import json, sys
doc = json.load(open(sys.argv[1]))
for t in doc["tests"]:
    for node in t.get("nodes", []):
        for e in node.get("endpoints", []):
            if e["kind"] == "gpu":
                print(e["cuda_device"], e["numa"] if e.get("numa") is not None else -1)
PY
    [ -s "$out/ref_targets" ] || for ((i = 0; i < ngpu; i++)); do echo "$i -1"; done >"$out/ref_targets"
    : >"$out/ref.txt"
    while read -r dev numa; do
        bind=()
        if [ "$numa" -ge 0 ] && command -v numactl >/dev/null 2>&1; then
            bind=(numactl --membind="$numa" --cpunodebind="$numa")
        fi
        step "ref_memcpy GPU $dev" "$out/ref-$dev.log" "${bind[@]}" "$ref" "$dev" "$bytes" 16 4 &&
            sed "s/\$/ $numa/" "$out/ref-$dev.log" >>"$out/ref.txt"
    done <"$out/ref_targets"
fi

# 6. nccl-tests beside topobench's nccl_all_reduce, where built
if [ -n "${NCCL_TESTS_DIR:-}" ] && [ -x "$NCCL_TESTS_DIR/all_reduce_perf" ]; then
    step "nccl-tests all_reduce_perf" "$out/nccl-tests.log" mpirun ${MPIRUN_ARGS:-} -np "$ngpu" \
        "$NCCL_TESTS_DIR/all_reduce_perf" -b 64M -e 1G -f 2 -g 1
fi

# Summary
echo
echo "gpu-check: $ngpu GPU(s), $((SECONDS - start)) s of a ${budget} s budget; results in $out"
printf '%-28s %-28s %8s\n' "step" "status" "seconds"
for s in "${steps[@]}"; do
    IFS='|' read -r name status secs log <<<"$s"
    printf '%-28s %-28s %8s\n' "$name" "$status" "$secs"
done
python3 - "$out" <<'PY' || failed=1
import glob, json, os, re, sys
out = sys.argv[1]
bad = 0
docs = {}
for path in sorted(glob.glob(os.path.join(out, "*", "results.json"))):
    try:
        docs[os.path.basename(os.path.dirname(path))] = json.load(open(path))
    except Exception as e:
        print(f"{path}: not readable: {e}")
        bad = 1
print("\nentries (status; skipped ones with the reason):")
for run, doc in docs.items():
    for t in doc["tests"]:
        label = "/".join(str(t[k]) for k in ("backend", "send_memory", "recv_memory", "dtype")
                         if t.get(k) not in (None, "mpi", "host", "byte"))
        status = t.get("status")
        print(f"  {run:18s} {t['name']:18s} {label:22s} {status}"
              + (f": {t.get('skip_reason')}" if status == "skipped" else ""))
        if status not in ("ok",):
            bad = 1
# gpu_copy's host<->device cells against the hand-timed cudaMemcpy
ref = {}
if os.path.exists(os.path.join(out, "ref.txt")):
    for line in open(os.path.join(out, "ref.txt")):
        f = line.split()
        if len(f) == 5:
            ref[(f[0], int(f[1]))] = (float(f[3]), int(f[4]))
copy = docs.get("gpu_copy")
if copy:
    for t in copy["tests"]:
        for node in t.get("nodes", []):
            if node.get("status") != "ok":
                continue
            labels = node["labels"]
            eps = node["endpoints"]
            cm = node["copy_gbps"]
            print(f"\ngpu_copy on {node['host']}: host<->device against cudaMemcpy timed by hand "
                  "(target: within 5%)")
            print(f"  {'GPU':8s} {'NUMA':6s} {'dir':4s} {'topobench':>10s} {'cudaMemcpy':>11s} {'ratio':>7s}")
            for j, e in enumerate(eps):
                if e["kind"] != "gpu":
                    continue
                for d, name in (("h2d", "h2d"), ("d2h", "d2h")):
                    r = ref.get((d, e["cuda_device"]))
                    if not r:
                        continue
                    numa = r[1]
                    rows = [i for i, x in enumerate(eps) if x["kind"] == "numa"
                            and (numa < 0 or x.get("numa") == numa)]
                    if not rows:
                        continue
                    i = rows[0]
                    v = cm[i][j] if d == "h2d" else cm[j][i]
                    if v is None:
                        continue
                    ratio = v / r[0]
                    flag = "" if abs(ratio - 1) <= 0.05 else "  <- outside 5%"
                    if flag:
                        bad = 1
                    print(f"  {labels[j]:8s} {labels[i]:6s} {name:4s} {v:10.2f} {r[0]:11.2f} {ratio:7.3f}{flag}")
            gpus = [j for j, e in enumerate(eps) if e["kind"] == "gpu"]
            if len(gpus) > 1:
                vals = [cm[a][b] for a in gpus for b in gpus if a != b and cm[a][b] is not None]
                if vals:
                    vals.sort()
                    print(f"  device->device one way: {len(vals)} pairs, min {vals[0]:.1f}, "
                          f"median {vals[len(vals)//2]:.1f}, max {vals[-1]:.1f} GB/s")
# NCCL: topobench's busbw at 64 MiB and above, and nccl-tests' where it ran
nccl = docs.get("nccl")
if nccl:
    print("\nNCCL busbw (GB/s) at 64 MiB and above, out-of-place:")
    for t in nccl["tests"]:
        rows = [r for r in t.get("results", []) if r.get("size", 0) >= 64 << 20 and not r.get("in_place")]
        if rows:
            print(f"  {t['name']:20s} " + "  ".join(f"{r['size'] >> 20}M:{r.get('busbw_gbps', float('nan')):.1f}" for r in rows))
    log = os.path.join(out, "nccl-tests.log")
    if os.path.exists(log):
        ours = {}
        for t in nccl["tests"]:
            if t["name"] == "nccl_all_reduce":
                for r in t.get("results", []):
                    if not r.get("in_place") and r.get("dtype", t.get("dtype")) in (None, "float"):
                        ours[r["size"]] = r.get("busbw_gbps")
        print("\nall_reduce busbw against nccl-tests (target: within 3%):")
        for line in open(log):
            f = line.split()
            if len(f) >= 8 and f[0].isdigit() and int(f[0]) >= 64 << 20:
                size, theirs = int(f[0]), float(f[7])
                mine = ours.get(size)
                if mine:
                    ratio = mine / theirs
                    flag = "" if abs(ratio - 1) <= 0.03 else "  <- outside 3%"
                    bad |= bool(flag)
                    print(f"  {size >> 20:6d}M  topobench {mine:8.2f}  nccl-tests {theirs:8.2f}  ratio {ratio:.3f}{flag}")
sys.exit(1 if bad else 0)
PY
exit $failed
