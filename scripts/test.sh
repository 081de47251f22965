#!/usr/bin/env bash
# Builds topobench twice (normal, and address+undefined sanitizers) and runs the whole
# test suite on both: unit, MPI (2 and 4 ranks), fuzz smoke runs, and the virtual
# cluster (label vcluster, network namespaces; needs root, skipped otherwise) and the HTML
# report in headless Chromium (label browser).
# Usage: bash scripts/test.sh            (installs missing Debian packages first)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
jobs=$(nproc)

cmake -S . -B build -DTB_WERROR=ON
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -LE 'vcluster|browser' -j"$jobs")
# The HTML report in headless Chromium; screenshots in build/browser-reports/.
if command -v chromium >/dev/null; then
  (cd build && ctest --output-on-failure -L browser)
else
  echo "test.sh: browser tests skipped: chromium is not installed (Debian package 'chromium')"
fi

cmake -S . -B build-asan -DTB_WERROR=ON -DTB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build-asan -j"$jobs"
# Open MPI keeps some allocations until exit by design; leaks are checked in the
# non-MPI unit tests and the fuzz targets, not inside the MPI runtime.
(cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -L mpi -j"$jobs" && \
  ctest --output-on-failure -L unit -j"$jobs")

# Fuzz targets of every importer: clang + libFuzzer, a fixed seed and a bounded number of
# inputs per target so the run is repeatable (longer runs: tests/fuzz/run.sh SECONDS).
TB_FUZZ_RUNS=${TB_FUZZ_RUNS:-20000} bash tests/fuzz/run.sh

(cd build && ctest --output-on-failure -L vcluster)
