#!/usr/bin/env python3
"""The ratio table of bench/perf/compare.sh, from its raw results (raw.tsv, kept with -k).

Usage: python3 bench/perf/compare_table.py RAW.tsv [CORES]

Per test, rank count and size: each tool's median over repetitions, the ratio
topobench / OSU, and the machine's noise floor at that cell: how far OSU's repetitions
of the same cell lie from each other (max / min - 1). A ratio outside the target can only
be blamed on topobench when it is also outside that noise floor: OSU does not agree with
itself better than that on this machine in this run.

Marks: ' ' within target; '~' outside target but within OSU's own spread (the machine
cannot tell); '!' outside both; '?' no data. Exit 0 always (a benchmark, not a test).
"""
import statistics
import sys
from collections import defaultdict

P2P = ("latency", "bw", "bibw")
ORDER = ["latency", "bw", "bibw", "all_reduce", "all_gather", "reduce_scatter",
         "broadcast", "alltoall"]


def fmt(v):
    return "-" if v is None else f"{v:.4g}" if v < 1e6 else f"{v:.3e}"


def main():
    raw = sys.argv[1]
    cores = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    vals = defaultdict(list)
    reps = set()
    for line in open(raw):
        test, np, size, tool, rep, v = line.rstrip("\n").split("\t")
        vals[(test, int(np), int(size), tool)].append(float(v))
        reps.add(rep)
    tests = [t for t in ORDER if any(k[0] == t for k in vals)]
    counts = {" ": 0, "~": 0, "!": 0, "?": 0}
    steady = [0, 0]  # cells where OSU agrees with itself within the target, cells
    worst = []
    for t in tests:
        target = 0.05 if t in P2P else 0.10
        unit = "GB/s" if t in ("bw", "bibw") else "us"
        nps = sorted({k[1] for k in vals if k[0] == t})
        sizes = sorted({k[2] for k in vals if k[0] == t})
        print(f"\n{t} ({unit}; ratio = topobench / OSU, medians over {len(reps)} "
              f"repetitions; target ±{target:.0%}; noise = OSU's own spread, max/min - 1)")
        head = f"  {'size':>9}"
        for np in nps:
            over = "*" if cores and np > cores else ""
            head += f" | {f'np={np}{over}':<6}{'topobench':>10} {'OSU':>10} {'ratio':>7}  {'noise':>6}"
        print(head)
        for size in sizes:
            line = f"  {size:>9}"
            for np in nps:
                a = vals.get((t, np, size, "topobench"), [])
                b = vals.get((t, np, size, "osu"), [])
                ma = statistics.median(a) if a else None
                mb = statistics.median(b) if b else None
                r = ma / mb if ma and mb else None
                noise = max(b) / min(b) - 1 if len(b) > 1 and min(b) > 0 else None
                if r is None:
                    mark = "?"
                elif abs(r - 1) <= target:
                    mark = " "
                elif noise is not None and abs(r - 1) <= noise:
                    mark = "~"
                else:
                    mark = "!"
                    worst.append((abs(r - 1), t, np, size, r, noise))
                counts[mark] += 1
                if noise is not None:
                    steady[1] += 1
                    steady[0] += noise <= target
                ns = "-" if noise is None else f"{noise:.0%}"
                line += f" | {'':<6}{fmt(ma):>10} {fmt(mb):>10} {fmt(r):>7}{mark} {ns:>6}"
            print(line)
    total = sum(counts.values())
    print(f"\n{total} ratios: {counts[' ']} within target, {counts['~']} outside it but within "
          f"OSU's own spread between repetitions ('~'), {counts['!']} outside both ('!')"
          + (f", {counts['?']} without data ('?')" if counts["?"] else "")
          + (f"; '*': {cores} cores, oversubscribed" if cores and any(k[1] > cores for k in vals) else ""))
    if steady[1]:
        print(f"the machine's noise floor: OSU's own repetitions agree within the target in "
              f"{steady[0]} of {steady[1]} cells")
    for d, t, np, size, r, noise in sorted(worst, reverse=True)[:10]:
        ns = "-" if noise is None else f"{noise:.0%}"
        print(f"  worst: {t} np={np} {size} B: {r:.3f} (OSU's own spread {ns})")


if __name__ == "__main__":
    main()
