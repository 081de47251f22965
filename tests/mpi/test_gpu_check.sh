#!/usr/bin/env bash
# scripts/gpu-check.sh on this CPU-only machine, every CUDA call going to the CUDA runtime
# double (topobench through TOPOBENCH_CUDA_LIB, the hand-timed reference through a
# libcudart.so.13 that is the double): the steps run under the budget, the copy matrix and
# the reference are measured and set side by side, and the summary says how every step
# ended. The figures mean nothing; what is tested is the script.
. "$(dirname "$0")/common.sh"
DOUBLE=${TB_CUDA_DOUBLE:-}
if [ -z "$DOUBLE" ] || [ ! -f "$DOUBLE" ]; then
  echo "skip: the CUDA runtime double is not built (TB_CUDA_DOUBLE)"
  exit 77
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$(dirname "$TB")/.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
have_toolkit=0
[ -f "$cuda/include/cuda_runtime_api.h" ] && command -v cc >/dev/null 2>&1 && have_toolkit=1
# A sanitizer build's double needs the sanitizer's runtime loaded first, which the plain
# reference program does not have: its steps are then not checked.
if ldd "$DOUBLE" 2>/dev/null | grep -q libasan; then
  echo "note: the double is built with AddressSanitizer; the reference's steps are not checked"
  have_toolkit=0
fi
mkdir -p "$WORK/lib"
ln -s "$DOUBLE" "$WORK/lib/libcudart.so.13"

start=$(date +%s)
LD_LIBRARY_PATH="$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" TOPOBENCH_CUDA_LIB="$DOUBLE" \
  TOPOBENCH_DOUBLE_DEVICES=2 TOPOBENCH_TOPO_FILE="$TB_TEST_DATA_DIR/gpu_copy/double_4gpu.xml" \
  TOPOBENCH_NCCL_LIB="${TB_NCCL_DOUBLE:-/nonexistent/libnccl.so.2}" \
  MPIRUN_ARGS="--oversubscribe -x LD_LIBRARY_PATH -x TOPOBENCH_CUDA_LIB -x TOPOBENCH_DOUBLE_DEVICES -x TOPOBENCH_TOPO_FILE -x TOPOBENCH_NCCL_LIB" \
  bash "$ROOT/scripts/gpu-check.sh" -n -B "$BUILD" -g 2 -s 256K -e 64K -t 240 -o "$WORK/check" \
  >"$WORK/out" 2>&1
status=$?
elapsed=$(($(date +%s) - start))
case $status in 0|1) pass "gpu-check ran to its summary (exit $status, ${elapsed}s)" ;;
  *) fail "gpu-check exited $status"; tail -30 "$WORK/out" ;; esac
expect_output "^gpu-check: 2 GPU\(s\), [0-9]+ s of a 240 s budget; results in $WORK/check" \
  "the summary names the GPUs, the time and where the results are"
expect_output "^gpu_copy +ok" "the copy matrix step passed"
expect_output "^  gpu_copy +gpu_copy +cuda +ok" "the copy matrix entry is listed as ok"
expect_output "^mem device +(ok|exit [0-9]+)" "the memory kinds were run"
expect_output "^nccl +ok" "the NCCL tests ran (on the NCCL double)"
expect_output "^  nccl +nccl_all_reduce .* ok" "an NCCL entry is listed as ok"
if [ "$have_toolkit" = 1 ]; then
  expect_output "^ref_memcpy build +ok" "the reference program was compiled"
  expect_output "^ref_memcpy GPU 1 +ok" "the reference ran on every GPU"
  for g in GPU0 GPU1; do
    for d in h2d d2h; do
      expect_output "^  $g +NUMA0 +$d +[0-9.]+ +[0-9.]+ +[0-9.]+" "$g $d is set against cudaMemcpy"
    done
  done
fi
if [ "$elapsed" -le 300 ]; then pass "within the budget"; else fail "took ${elapsed}s"; fi
finish
