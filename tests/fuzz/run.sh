#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz (clang, -DTB_FUZZ=ON) and runs each
# tests/fuzz/fuzz_*.c target for a bounded time on a seed corpus made from the fixtures.
#   tests/fuzz/run.sh [SECONDS]               build, then run each target SECONDS (default 20)
#   tests/fuzz/run.sh --no-build BUILD_DIR    run targets already built in BUILD_DIR (ctest)
# TB_FUZZ_RUNS=N bounds each target by N inputs instead of time; with the fixed seed that
# makes a CI run repeatable. Exit status: 0 when no target crashed, 1 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixtures=${TB_FIXTURES_DIR:-$root/../shared/fixtures}
seconds=${TB_FUZZ_SECONDS:-20}
if [[ ${1:-} == --no-build ]]; then
    build=$2
else
    [[ -n ${1:-} ]] && seconds=$1
    build=$root/build-fuzz
    cmake -S "$root" -B "$build" -DTB_FUZZ=ON -DCMAKE_C_COMPILER=clang \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j2 --target $(cd "$here" && ls fuzz_*.c | sed 's/\.c$//') >/dev/null
fi

# Seeds per target: the fixture directory whose format it parses, plus the hand-made
# files of that format in tests/data/topo (nccl_*.xml, nvsmi_*, hwloc-*.xml).
seed_dir() {
    case $1 in
        fuzz_nccl_xml | fuzz_nccl_graph) echo "$fixtures/nccl_topo_xml" ;;
        fuzz_nvsmi) echo "$fixtures/nvidia_smi_topo" ;;
        fuzz_hwloc_xml) echo "$fixtures/hwloc_xml" ;;
        fuzz_results_doc) echo "$root/tests/data/report" ;;
        fuzz_gate) echo "$fixtures/nccl_tests" ;;
        *) echo "" ;;
    esac
}
data_seeds() {
    case $1 in
        fuzz_nccl_xml) echo "$root/tests/data/topo/nccl_*" ;;
        fuzz_nvsmi) echo "$root/tests/data/topo/nvsmi_*" ;;
        fuzz_hwloc_xml) echo "$root/tests/data/topo/hwloc[-_]*" ;;
        fuzz_gate) echo "$root/tests/data/gate/* $root/tests/data/report/results-sample.json" ;;
        *) echo "" ;;
    esac
}

status=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for src in "$here"/fuzz_*.c; do
    name=$(basename "$src" .c)
    exe=$(find "$build" -type f -name "$name" -perm -u+x | head -1)
    if [[ -z $exe ]]; then
        echo "fuzz: $name not built in $build" >&2
        status=1
        continue
    fi
    corpus=$work/$name
    mkdir -p "$corpus"
    seeds=$(seed_dir "$name")
    [[ -n $seeds && -d $seeds ]] && cp "$seeds"/* "$corpus"/ 2>/dev/null || true
    # Seeds kept beside the targets (a document with its NPY side file, say).
    cp "$here"/seeds/"${name#fuzz_}"*.seed "$corpus"/ 2>/dev/null || true
    # shellcheck disable=SC2046 # the pattern is meant to expand
    cp $(data_seeds "$name") "$corpus"/ 2>/dev/null || true
    # hwloc's own XML importer leaks on its error paths and tries huge allocations on
    # absurd sizes (see fuzz_hwloc_xml.c): those are hwloc's, not ours.
    extra=()
    if [[ $name == fuzz_hwloc_xml ]]; then
        extra=(-detect_leaks=0)
        export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
    else
        unset ASAN_OPTIONS
    fi
    if [[ -n ${TB_FUZZ_RUNS:-} ]]; then
        bound=(-runs="$TB_FUZZ_RUNS" -max_total_time=600)
        echo "fuzz: $name for $TB_FUZZ_RUNS inputs ($(ls "$corpus" | wc -l) seeds)"
    else
        bound=(-max_total_time="$seconds")
        echo "fuzz: $name for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
    fi
    if ! "$exe" "${bound[@]}" -seed=1 "${extra[@]}" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="$work/$name-" "$corpus" >"$work/$name.log" 2>&1; then
        echo "fuzz: $name FAILED; last lines of its log:" >&2
        tail -40 "$work/$name.log" >&2
        mkdir -p "$root/build-fuzz/artifacts"
        cp "$work/$name"-* "$root/build-fuzz/artifacts/" 2>/dev/null || true
        status=1
    else
        grep -E "^Done [0-9]+ runs" "$work/$name.log" | tail -1 || true
    fi
done
exit $status
