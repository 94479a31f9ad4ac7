#!/usr/bin/env python3
"""Layer (block) pruning vs channel pruning at equal MAC reduction: latency and fidelity.

    compare_structured_pruning.py MODEL.onnx [--max-blocks 4] [--sparrow .build/release/sparrow] [--runs 20]
                                  [--rounds 3] [--inputs 8] [--calibration DIR] [--out table.md]
                                  [--keep DIR [--reuse]]

For N = 1 .. --max-blocks this script

1. converts MODEL with `sparrow convert --prune-blocks N --prune-blocks-report R.json` and reads the MAC reduction
   1 - macs_after / macs_before from the report (blocks are chosen by the converter on --calibration DIR, passed
   on to it, or else on its own 8 seeded random calibration inputs),
2. finds the `--prune-channels F` whose MAC reduction (from `--prune-channels-report`, counted the same way:
   Conv/ConvTranspose/Gemm/MatMul multiply-accumulates at batch 1) is closest to it, by bisection over F,
3. measures every model's latency with `sparrow run --runs R --threads 1 --timing-json`: the median of R timed runs
   after 3 warm-up runs, taken in --rounds rounds that visit every model in turn, and the smallest of those
   medians reported (a busy machine only ever adds time); and its fidelity against the dense conversion on
   --inputs held-out seeded N(0,1) inputs (numpy seed 1234, not the converter's calibration seed): the mean over
   inputs of the cosine similarity of the flattened outputs, and the top-1 agreement of the first output's argmax,

then prints a Markdown table (and writes it to --out). Models with random weights (the zoo's) measure function
preservation, not accuracy. With --keep DIR --reuse, models, reports and outputs already in DIR are not made
again (to measure latency again on a quieter machine).
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx


def run(cmd):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, cmd))}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def sanitize(name):
    """How `sparrow run` names output files: characters other than [A-Za-z0-9._-] become '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


class Study:
    def __init__(self, args, work):
        self.args, self.work = args, work
        model = onnx.load(str(args.model), load_external_data=False)
        initializers = {t.name for t in model.graph.initializer}
        inputs = [i for i in model.graph.input if i.name not in initializers]
        if len(inputs) != 1:
            sys.exit(f"{args.model} has {len(inputs)} inputs; this comparison feeds one")
        dims = inputs[0].type.tensor_type.shape.dim
        self.shape = [d.dim_value if d.HasField("dim_value") else 1 for d in dims]
        symbolic = any(not d.HasField("dim_value") for d in dims)
        self.shape_flags = ["--input-shape", f"{inputs[0].name}={'x'.join(map(str, self.shape))}"] if symbolic else []
        self.outputs = [o.name for o in model.graph.output]
        rng = np.random.default_rng(1234)
        self.inputs = []
        for index in range(args.inputs):
            path = work / f"input{index}.npy"
            np.save(path, rng.standard_normal(self.shape).astype(np.float32))
            self.inputs.append(path)
        self.channel_cache = {}

    def convert(self, name, flags):
        path = self.work / f"{name}.sparrow"
        if self.args.reuse and path.exists():
            return path
        run([self.args.sparrow, "convert", self.args.model, "-o", path] + self.shape_flags + flags)
        return path

    def blocks(self, count):
        report = self.work / f"blocks{count}.json"
        calibration = ["--calibration", self.args.calibration] if self.args.calibration else []
        path = self.convert(f"blocks{count}", ["--prune-blocks", str(count), "--prune-blocks-report", report]
                            + calibration)
        data = json.loads(report.read_text())
        return path, data

    def channels(self, fraction):
        """Converts with --prune-channels fraction (cached); returns (path, MAC reduction, report)."""
        key = round(fraction, 6)
        if key not in self.channel_cache:
            report = self.work / f"channels{key}.json"
            path = self.convert(f"channels{key}", ["--prune-channels", f"{key}", "--prune-channels-report", report])
            data = json.loads(report.read_text())
            self.channel_cache[key] = (path, 1 - data["macs_after"] / data["macs_before"], data)
        return self.channel_cache[key]

    def matching_channels(self, target, iterations=12, tolerance=0.002):
        """The channel fraction whose MAC reduction is closest to `target`, by bisection on [0, 0.95]: the
        reduction grows with the fraction (in steps: channel counts are rounded to multiples of 8)."""
        low, high = 0.0, 0.95
        best = self.channels(high)
        if best[1] < target:
            return high, best
        best = None
        for _ in range(iterations):
            middle = (low + high) / 2
            candidate = self.channels(middle)
            if best is None or abs(candidate[1] - target) < abs(best[1] - target):
                best, fraction = candidate, middle
            if abs(candidate[1] - target) <= tolerance:
                break
            if candidate[1] < target:
                low = middle
            else:
                high = middle
        return fraction, best

    def latency(self, path):
        timing = path.with_suffix(".timing.json")
        run([self.args.sparrow, "run", path, "--input", self.inputs[0], "--runs", str(self.args.runs),
             "--threads", "1", "--timing-json", timing])
        return json.loads(timing.read_text())["median_ms"]

    def outputs_of(self, path):
        results = []
        for index, input_path in enumerate(self.inputs):
            out_dir = self.work / f"{path.stem}_out{index}"
            out_dir.mkdir(exist_ok=True)
            if not (self.args.reuse and all((out_dir / f"{sanitize(n)}.npy").exists() for n in self.outputs)):
                run([self.args.sparrow, "run", path, "--input", input_path, "--output-dir", out_dir])
            results.append([np.load(out_dir / f"{sanitize(name)}.npy") for name in self.outputs])
        return results

    @staticmethod
    def fidelity(outputs, reference):
        cosines, agreed, rows = [], 0, 0
        for got, expected in zip(outputs, reference):
            a = np.concatenate([o.astype(np.float64).ravel() for o in got])
            b = np.concatenate([o.astype(np.float64).ravel() for o in expected])
            denominator = np.linalg.norm(a) * np.linalg.norm(b)
            cosines.append(float(a @ b / denominator) if denominator > 0 else float(np.array_equal(a, b)))
            first, ref = got[0], expected[0]
            width = ref.shape[-1] if ref.ndim else 1
            agreed += int(np.sum(first.reshape(-1, width).argmax(1) == ref.reshape(-1, width).argmax(1)))
            rows += ref.size // width
        return float(np.mean(cosines)), agreed / rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--max-blocks", type=int, default=4, help="compare N = 1 .. this many removed blocks")
    parser.add_argument("--sparrow", default=".build/release/sparrow", help="the sparrow executable")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per model and round (median taken)")
    parser.add_argument("--rounds", type=int, default=3, help="latency rounds over all models (min of medians)")
    parser.add_argument("--inputs", type=int, default=8, help="held-out inputs for the fidelity")
    parser.add_argument("--calibration", type=Path, help="directory of .npy inputs for choosing blocks")
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    parser.add_argument("--keep", type=Path, help="keep the converted models and reports in this directory")
    parser.add_argument("--reuse", action="store_true", help="with --keep: reuse what the directory holds")
    args = parser.parse_args()
    if args.reuse and not args.keep:
        parser.error("--reuse needs --keep DIR")
    if args.runs < 20:
        parser.error("--runs must be at least 20")

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        study = Study(args, work)
        dense = study.convert("dense", [])
        reference = study.outputs_of(dense)
        macs_before = None
        rows = []
        for count in range(1, args.max_blocks + 1):
            blocks_path, blocks = study.blocks(count)
            macs_before = blocks["macs_before"]
            if len(blocks["removed"]) < count:
                print(f"{args.model.name}: only {len(blocks['removed'])} blocks can be removed", file=sys.stderr)
                break
            reduction = 1 - blocks["macs_after"] / blocks["macs_before"]
            fraction, (channels_path, channel_reduction, _) = study.matching_channels(reduction)
            for method, setting, path, macs_reduction in [
                ("blocks", f"N={count}: " + ", ".join(blocks["removed"]), blocks_path, reduction),
                ("channels", f"F={fraction:.3f}", channels_path, channel_reduction),
            ]:
                cosine, top1 = Study.fidelity(study.outputs_of(path), reference)
                rows.append([count, method, setting, macs_reduction, path, cosine, top1])
                print(f"  {method:8s} {setting}: MACs -{macs_reduction * 100:.1f}%, cos {cosine:.4f}, "
                      f"top-1 {top1 * 100:.1f}%", file=sys.stderr)
        # Interleaved rounds: a burst of load from elsewhere hits one round of a model, not all of them.
        paths = [dense] + [row[4] for row in rows]
        latencies = {path: float("inf") for path in paths}
        for _ in range(args.rounds):
            for path in paths:
                latencies[path] = min(latencies[path], study.latency(path))
        dense_latency = latencies[dense]
        for row in rows:
            row[4] = latencies[row[4]]

    lines = [
        f"`{args.model.name}`: {macs_before / 1e9:.2f} GMAC dense, {dense_latency:.2f} ms; latency: 1 thread, the "
        f"smallest of {args.rounds} interleaved medians of {args.runs} runs; fidelity vs dense on {args.inputs} "
        f"held-out seeded N(0,1) inputs.",
        "",
        "| N | method | setting | MAC reduction | latency (ms) | speed-up | cosine | top-1 agreement |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for count, method, setting, reduction, latency, cosine, top1 in rows:
        lines.append(f"| {count} | {method} | {setting} | {reduction * 100:.1f}% | {latency:.2f} | "
                     f"{dense_latency / latency:.2f}x | {cosine:.4f} | {top1 * 100:.0f}% |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
