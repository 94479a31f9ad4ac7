#!/usr/bin/env python3
"""Time Sparrow against ONNX Runtime side by side, in alternating blocks.

    bench_vs_onnxruntime.py MODEL.onnx [MODEL2.onnx ...] [--threads 1] [--runs 30] [--blocks 5] [--warmup 5]
                            [--sparrow .build/release/sparrow] [--json PATH] [--convert-args "--prune 0.9"]

Per model: convert with `sparrow convert`, then alternate blocks ORT, Sparrow, ORT, Sparrow, ... (ort_timing.py
says how a block is run and why they alternate).
  Sparrow block: `sparrow run X.sparrow --input IN.npy --threads T --warmup W --runs N --timing-json PATH`,
                 which writes {"latencies_ms": [...], optionally "isa": "..."}.
The ratio Sparrow/ORT is the median of the per-block ratios of medians; min-max over blocks is the spread.
For a table of every compressed variant of one model (`sparrow bench --sweep`), use compare_onnxruntime.py.
`--convert-args` goes to `sparrow convert` (e.g. pruning): Sparrow then runs the compressed variant while ORT runs
the dense ONNX model, which is the comparison a user makes when choosing a runtime and a compression.
The input is the zoo's X.input.npy next to X.onnx (a seeded random one if absent), the same for both.
Prints a Markdown table (with the CPU and the command) and optionally writes everything to --json.
"""
import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ort_timing import (cpu_name, input_shape_flags, model_input, ort_block, ort_session,  # noqa: E402
                        ratio_summary, sparrow_run_block)


def bench(onnx_path, args, sparrow, tmp):
    sess = ort_session(onnx_path, args.threads)
    x_path, x = model_input(onnx_path, sess, tmp)
    feeds = {sess.get_inputs()[0].name: x}

    sp_path = Path(tmp) / f"{onnx_path.stem}.sparrow"
    # Symbolic dims pinned to the benchmark input, as ORT sees it.
    convert = [sparrow, "convert", str(onnx_path), "-o", str(sp_path)] + input_shape_flags(sess, x)
    convert += shlex.split(args.convert_args)
    proc = subprocess.run(convert, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(convert)} failed ({proc.returncode}):\n{proc.stderr}")

    ort_times, sp_times, ratios, isa = [], [], [], None
    for b in range(args.blocks):
        o = ort_block(sess, feeds, args.warmup, args.runs)
        s, isa_b = sparrow_run_block(sparrow, sp_path, x_path, args.threads, args.warmup, args.runs,
                                     Path(tmp) / "timing.json")
        isa = isa or isa_b
        ort_times += o
        sp_times += s
        ratios.append(float(np.median(s) / np.median(o)))
        print(f"  {onnx_path.stem} block {b + 1}/{args.blocks}: ORT {np.median(o):.2f} ms, "
              f"Sparrow {np.median(s):.2f} ms", file=sys.stderr, flush=True)
    ratio_median, ratio_min, ratio_max = ratio_summary(ratios)
    return {"model": onnx_path.stem, "variant": args.convert_args or "dense", "threads": args.threads,
            "ort_median_ms": float(np.median(ort_times)), "sparrow_median_ms": float(np.median(sp_times)),
            "ratio_median": ratio_median, "ratio_min": ratio_min, "ratio_max": ratio_max, "block_ratios": ratios,
            "isa": isa, "sparrow_file_bytes": sp_path.stat().st_size, "ort_latencies_ms": ort_times,
            "sparrow_latencies_ms": sp_times}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path, metavar="MODEL.onnx")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--sparrow", default=".build/release/sparrow")
    ap.add_argument("--json", type=Path, help="also write all results (with raw latencies) here")
    ap.add_argument("--convert-args", default="", help="extra `sparrow convert` arguments, e.g. \"--prune 0.9\"")
    args = ap.parse_args()
    sparrow = str(Path(args.sparrow).resolve())
    if not Path(sparrow).exists():
        sys.exit(f"no sparrow binary at {sparrow} (build it with `swift build -c release`, or pass --sparrow)")

    results, errors = [], []
    with tempfile.TemporaryDirectory(prefix="sparrow-bench-") as tmp:
        for m in args.models:
            try:
                results.append(bench(m, args, sparrow, tmp))
            except (RuntimeError, OSError, ValueError, KeyError) as e:
                errors.append(f"{m}: {e}")
                print(f"error: {m}: {e}", file=sys.stderr)

    cpu = cpu_name()
    command = shlex.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])
    print(f"CPU: {cpu}; onnxruntime {ort.__version__}; {args.threads} thread(s); {args.blocks} blocks x "
          f"{args.runs} runs (warm-up {args.warmup})")
    print(f"Command: `{command}`\n")
    print("| model | Sparrow variant | threads | ORT ms | Sparrow ms | Sparrow/ORT | spread (min–max) | ISA |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['model']} | {r['variant']} | {r['threads']} | {r['ort_median_ms']:.2f} | {r['sparrow_median_ms']:.2f} | "
              f"{r['ratio_median']:.2f} | {r['ratio_min']:.2f}–{r['ratio_max']:.2f} | {r['isa'] or '—'} |")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu, "onnxruntime": ort.__version__, "command": command,
                                         "threads": args.threads, "runs": args.runs, "blocks": args.blocks,
                                         "warmup": args.warmup, "results": results, "errors": errors}, indent=1))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
