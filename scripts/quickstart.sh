#!/usr/bin/env bash
# Installs what topobench needs (Debian 12, as root), builds it, and runs the quick suite
# on this machine with 4 ranks. Prints where the results went.
# Usage: bash scripts/quickstart.sh [NP] [extra topobench run options...]
set -euo pipefail
cd "$(dirname "$0")/.."
np=${1:-4}
shift || true
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# More ranks than cores on a laptop or CI machine: yield while waiting.
export OMPI_MCA_mpi_yield_when_idle=1
out=topobench-results/quickstart-$(date +%Y%m%d-%H%M%S)
mpirun --oversubscribe -np "$np" build/bench/topobench run --suite quick -o "$out" "$@"
echo "quick start: results.json and CSV files are in $(pwd)/$out"
