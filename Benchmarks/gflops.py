#!/usr/bin/env python3
"""Summarise `swift package benchmark` text output as a GFLOP/s table.

Usage: swift package --disable-sandbox benchmark --no-progress | tee run.txt
       python3 gflops.py run.txt [--peak GFLOPS]   (fp32 peak of one core; multiplied by tN)

GFLOP/s = 2 * MACs / wall-clock, with the MACs taken from the benchmark name ("[115.61 MMAC]").
Sparse (CSR) rows also carry their nonzero MACs ("csr90 t1 [5.138 nnz MMAC] [51.380 MMAC]"): "G/s" is then the
dense-equivalent rate (the dense layer's work / time) and "actual G/s" the rate of the MACs really done.
int8 rows ("int8" in the name) count int8 ops, not flops: their G/s column is GOP/s (unit column "OP"), and their
% of peak is against the same --peak number (see README.md for why that comparison is fair on AVX2).
"""
import re
import sys


def parse(text):
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    rows, name, metrics = [], None, {}
    for line in text.splitlines():
        mac = re.search(r"\[([0-9.]+) MMAC\]\s*$", line)
        if mac and not line.startswith(("│", "╒")) and "%" not in line:
            if name and metrics:
                rows.append((name, macs, metrics))
            name, macs, metrics = line.strip(), float(mac.group(1)) * 1e6, {}
        elif name and line.startswith("│") and "Metric" not in line:
            cells = [c.strip() for c in line.strip().strip("│").split("│")]
            metrics[cells[0]] = cells[1:]
    if name and metrics:
        rows.append((name, macs, metrics))
    return rows


def main():
    args = sys.argv[1:]
    peak = None
    if "--peak" in args:
        i = args.index("--peak")
        peak = float(args[i + 1])
        del args[i:i + 2]
    text = open(args[0]).read() if args else sys.stdin.read()
    rows = parse(text)
    sparse = any(re.search(r"\[([0-9.]+) nnz MMAC\]", name) for name, _, _ in rows)
    header = "| benchmark | p50 µs | p0 µs | unit | p50 G/s | best G/s |"
    rule = "|---|---:|---:|---|---:|---:|"
    if sparse:
        header += " p50 actual G/s |"
        rule += "---:|"
    header += " mallocs/run |"
    rule += "---:|"
    if peak:
        header += " % of peak (p50) |" + (" actual % of peak |" if sparse else "")
        rule += "---:|" + ("---:|" if sparse else "")
    print(header)
    print(rule)
    for name, macs, metrics in rows:
        key = next(k for k in metrics if k.startswith("Time (wall clock)"))
        unit = re.search(r"\((ns|μs|ms|s)\)", key).group(1)
        to_us = {"ns": 1e-3, "μs": 1.0, "ms": 1e3, "s": 1e6}[unit]
        p50, p0 = float(metrics[key][2]) * to_us, float(metrics[key][0]) * to_us
        mallocs = next((v[2] for k, v in metrics.items() if k.startswith("Malloc (total)")), "-")
        gflops50, gflops0 = 2 * macs / p50 / 1e3, 2 * macs / p0 / 1e3
        kind = "OP" if " int8 " in name else "FLOP"
        nnz = re.search(r"\[([0-9.]+) nnz MMAC\]", name)
        actual = 2 * float(nnz.group(1)) * 1e6 / p50 / 1e3 if nnz else None
        line = f"| {name} | {p50:.0f} | {p0:.0f} | {kind} | {gflops50:.1f} | {gflops0:.1f} |"
        if sparse:
            line += f" {actual:.1f} |" if actual is not None else " - |"
        line += f" {mallocs} |"
        if peak:
            threads = int(re.search(r" t(\d+) ", name).group(1))  # peak is per core
            line += f" {100 * gflops50 / (peak * threads):.0f}% |"
            if sparse:
                line += f" {100 * actual / (peak * threads):.0f}% |" if actual is not None else " - |"
        print(line)


if __name__ == "__main__":
    main()
