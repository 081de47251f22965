#!/usr/bin/env bash
# bench/perf/compare_table.py on a made-up raw.tsv: medians, ratios, the noise floor
# (OSU's own spread between repetitions) and the marks (' ' within target, '~' outside it
# but within OSU's spread, '!' outside both, '?' no data).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../bench/perf/compare_table.py
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# latency 8 B: OSU 1.0/1.0/1.0, topobench 1.02 -> 1.02 within 5%.
# latency 16 B: OSU 1.0/1.5/1.2 (spread 50%), topobench 1.3 -> 1.083 outside 5%, within 50%: '~'.
# latency 32 B: OSU 1.0/1.01/1.0 (spread 1%), topobench 2.0 -> 2.0: '!'.
# all_reduce 8 B np=4: topobench only: '?'.
{
    for r in 1 2 3; do printf 'latency\t2\t8\tosu\t%s\t1.0\n' $r; printf 'latency\t2\t8\ttopobench\t%s\t1.02\n' $r; done
    printf 'latency\t2\t16\tosu\t1\t1.0\nlatency\t2\t16\tosu\t2\t1.5\nlatency\t2\t16\tosu\t3\t1.2\n'
    for r in 1 2 3; do printf 'latency\t2\t16\ttopobench\t%s\t1.3\n' $r; done
    printf 'latency\t2\t32\tosu\t1\t1.0\nlatency\t2\t32\tosu\t2\t1.01\nlatency\t2\t32\tosu\t3\t1.0\n'
    for r in 1 2 3; do printf 'latency\t2\t32\ttopobench\t%s\t2.0\n' $r; done
    printf 'all_reduce\t4\t8\ttopobench\t1\t5.0\n'
} >"$work/raw.tsv"
out=$(python3 "$script" "$work/raw.tsv" 2)
echo "$out"
fail=0
check() { # check REGEX WHAT
    if grep -Eq -- "$1" <<<"$out"; then echo "ok: $2"; else echo "FAIL: $2 (no match for '$1')"; fail=1; fi
}
check '^ +8 \|.* 1\.02 +0%' "8 B within target, no mark, OSU's spread 0%"
check '^ +16 \|.* 1\.083~ +50%' "16 B outside target within OSU's 50% spread: ~"
check '^ +32 \|.* 2! +1%' "32 B outside both: !"
check '^ +8 \|.*\? ' "a cell with one tool only: ?"
check '4 ratios: 1 within target, 1 outside it but within .*, 1 outside both .*1 without data' "the counts"
check "OSU's own repetitions agree within the target in 2 of 3 cells" "the noise-floor summary"
check "worst: latency np=2 32 B: 2.000" "the worst cell named"
exit $fail
