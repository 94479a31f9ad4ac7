#!/usr/bin/env python3
"""Every Sparrow variant of one model against ONNX Runtime, side by side in one session.

    compare_onnxruntime.py MODEL.onnx [--variants DIR] [--threads 1] [--runs 10] [--blocks 5] [--warmup 3]
                           [--sparsities 0.5,0.7,0.9,0.95] [--prune-channels LIST] [--masked] [--ort-int8]
                           [--sparrow .build/release/sparrow] [--out FILE.md] [--json PATH]

The variants are those of `sparrow bench --sweep`: with --variants DIR, the .sparrow files and report.json a sweep
wrote there; without, this script runs a quick sweep (one round of one run, only to make the files) into a
temporary directory with --sparsities and --prune-channels. Variants the Sparrow build cannot make (int8 until the
converter has it) get a row that says so.

Then, for --blocks rounds, every variant in turn: an ORT block, then a Sparrow block of that variant (A B A C A D
...; how blocks run is in ort_timing.py). Same model, same input (the zoo's X.input.npy next to X.onnx, else a
seeded random one; the sweep is run on it too), same thread count, same runs per block for both.
  ORT runs the original fp32 ONNX model with its best settings (graph optimizations ALL), also against the pruned
  variants: "ORT-dense / Sparrow-sparse" is the comparison the speed targets are stated in, because ORT does not
  exploit zeros. With --masked, ORT also runs each magnitude-pruned variant's masked ONNX model (the source model
  with the same weights zeroed, `sparrow convert --export-masked-onnx`) in the same rounds, to show that.
  For int8 variants ORT runs its own int8 model: `quant_pre_process`, then `quantize_static` QDQ, per-channel
  int8 weights, uint8 activations, calibrated on the benchmark input. --ort-int8 times that model even while Sparrow has no int8
  variant, so that its row shows what int8 has to beat.
  Sparrow runs `sparrow bench VARIANT.sparrow --input X.npy --threads T --warmup W --runs N --json -`.
Per variant: Sparrow/ORT = median over rounds of (Sparrow block median / adjacent ORT block median), with the
min-max over rounds; ORT/Sparrow is the speed-up. Prints a Markdown table (CPU, versions, command) that can go into
BENCHMARKS.md; --out also writes it to a file, --json writes every latency.
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
                        ratio_summary, sparrow_bench_block)

# Variants with int8 activations, which ORT runs as its own QDQ model; weight-only int8 (int8-weights,
# sparse-int8-weights) computes in fp32 and is compared with ORT's fp32 model like the pruned variants.
INT8_KINDS = {"int8", "sparse-int8"}


def sweep_report(args, sparrow, x_path, tmp):
    """report.json of --variants DIR, or of a quick sweep into `tmp`; with the directory it describes."""
    if args.variants:
        directory = args.variants
    else:
        directory = Path(tmp) / "sweep"
        cmd = [sparrow, "bench", "--sweep", str(args.model), "--out", str(directory), "--input", str(x_path),
               "--threads", str(args.threads), "--sparsities", args.sparsities, "--prune-channels",
               args.prune_channels, "--rounds", "1", "--runs", "1", "--warmup", "0"]
        print(f"making the variants: {shlex.join(cmd)}", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    report_path = Path(directory) / "report.json"
    if not report_path.exists():
        raise RuntimeError(f"{report_path} does not exist: give a directory `sparrow bench --sweep --out` wrote")
    return Path(directory), json.loads(report_path.read_text())


def check_same_input(report, x):
    """The variants must have been converted for the shape ORT runs (a sweep pins symbolic dims to its input)."""
    shapes = [tuple(i["shape"]) for i in report.get("inputs", [])]
    if shapes and shapes[0] != tuple(x.shape):
        raise RuntimeError(f"the variants were made for input shape {shapes[0]}, the benchmark input is "
                           f"{tuple(x.shape)}: sweep with --input {x.shape} data, or leave out --variants")


def qdq_model(onnx_path, sess, x, tmp):
    """ORT's own int8 model of `onnx_path`: pre-processed as ORT recommends (shape inference, and its graph
    optimizations, which fold BatchNorm into Conv, so that the quantized graph has no Q/DQ pair around a
    BatchNorm), then quantize_static QDQ, per-channel int8 weights, uint8 activations, calibrated on the benchmark
    input."""
    import logging

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer's advice on each skipped tensor
    prepared = Path(tmp) / f"{onnx_path.stem}.prepared.onnx"
    # The symbolic shape inference needs sympy; ONNX's own shape inference is enough for these models.
    quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)

    class OneInput(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter([{sess.get_inputs()[0].name: x}])

        def get_next(self):
            return next(self.feeds, None)

    path = Path(tmp) / f"{onnx_path.stem}.qdq.onnx"
    quantize_static(str(prepared), str(path), OneInput(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return path


def masked_model(args, sparrow, variant, sess, x, tmp):
    """The source model with the weights `variant`'s conversion pruned set to zero (for ORT)."""
    path = Path(tmp) / f"{variant['name']}.masked.onnx"
    cmd = [sparrow, "convert", str(args.model), "-o", str(Path(tmp) / "masked.sparrow"), "--export-masked-onnx",
           str(path)] + input_shape_flags(sess, x) + shlex.split(variant["convert_arguments"])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return path


def compare(args, sparrow, tmp):
    dense_sess = ort_session(args.model, args.threads)
    x_path, x = model_input(args.model, dense_sess, tmp)
    feeds = {dense_sess.get_inputs()[0].name: x}
    directory, report = sweep_report(args, sparrow, x_path, tmp)
    check_same_input(report, x)
    variants = report["variants"]
    measured = [v for v in variants if v["available"]]

    # One ORT session per model ORT runs; each measured variant (and --ort-int8 rows) names its own.
    sessions = {"fp32 ONNX": dense_sess}
    ort_model = {}
    for v in variants:
        if v["kind"] in INT8_KINDS and (v["available"] or args.ort_int8):
            if "QDQ (quantize_static)" not in sessions:
                print("quantizing with quantize_static ...", file=sys.stderr, flush=True)
                sessions["QDQ (quantize_static)"] = ort_session(qdq_model(args.model, dense_sess, x, tmp),
                                                                args.threads)
            ort_model[v["name"]] = "QDQ (quantize_static)"
        elif v["available"]:
            ort_model[v["name"]] = "fp32 ONNX"
    masked = {}
    if args.masked:
        for v in measured:
            if v["kind"] == "magnitude":
                masked[v["name"]] = ort_session(masked_model(args, sparrow, v, dense_sess, x, tmp), args.threads)

    rows = {v["name"]: {"ort": [], "sparrow": [], "ratios": [], "masked": []} for v in variants}
    bench_reports = {}
    for block in range(args.blocks):
        for v in measured:
            row = rows[v["name"]]
            o = ort_block(sessions[ort_model[v["name"]]], feeds, args.warmup, args.runs)
            b = sparrow_bench_block(sparrow, directory / v["file"], x_path, args.threads, args.warmup, args.runs)
            bench_reports[v["name"]] = b
            row["ort"] += o
            row["sparrow"] += b["latencies_ms"]
            row["ratios"].append(float(np.median(b["latencies_ms"]) / np.median(o)))
            if v["name"] in masked:
                row["masked"] += ort_block(masked[v["name"]], feeds, args.warmup, args.runs)
            print(f"  block {block + 1}/{args.blocks} {v['name']}: ORT {np.median(o):.2f} ms, "
                  f"Sparrow {np.median(b['latencies_ms']):.2f} ms", file=sys.stderr, flush=True)
        # ORT-only rows (its int8 model while Sparrow has no int8 variant): one block per model and round, shared
        # by the rows that name it.
        for name in sorted({ort_model[v["name"]] for v in variants if not v["available"] and v["name"] in ort_model}):
            o = ort_block(sessions[name], feeds, args.warmup, args.runs)
            for v in variants:
                if not v["available"] and ort_model.get(v["name"]) == name:
                    rows[v["name"]]["ort"] += o

    results = []
    for v in variants:
        row = rows[v["name"]]
        result = {"variant": v["name"], "convert": v["convert_arguments"] or "—", "available": v["available"],
                  "ort_model": ort_model.get(v["name"]), "reason": v.get("reason"),
                  "ort_latencies_ms": row["ort"], "sparrow_latencies_ms": row["sparrow"],
                  "block_ratios": row["ratios"]}
        if row["ort"]:
            result["ort_median_ms"] = float(np.median(row["ort"]))
        if row["ratios"]:
            result["sparrow_median_ms"] = float(np.median(row["sparrow"]))
            result["ratio_median"], result["ratio_min"], result["ratio_max"] = ratio_summary(row["ratios"])
            result["sparrow_file_bytes"] = bench_reports[v["name"]]["file_bytes"]
            result["isa"] = bench_reports[v["name"]]["isa"]
        if row["masked"]:
            result["ort_masked_median_ms"] = float(np.median(row["masked"]))
        results.append(result)
    return results


def ms(value):
    """Two decimals, or three significant digits below 1 ms."""
    return f"{value:.2f}" if value >= 1 else f"{value:.3g}"


def markdown(args, results, command):
    isa = next((r["isa"] for r in results if r.get("isa")), "—")
    lines = [f"CPU: {cpu_name()}; onnxruntime {ort.__version__}; Sparrow isa {isa}; {args.threads} thread(s); "
             f"{args.blocks} rounds, each an ORT block and a Sparrow block of {args.runs} runs (warm-up "
             f"{args.warmup}) per variant; model `{args.model}`",
             f"Command: `{command}`", "",
             "| variant | Sparrow convert | ORT runs | ORT ms | Sparrow ms | Sparrow/ORT | spread (min–max) | "
             "ORT/Sparrow |" + (" ORT masked ms |" if args.masked else ""),
             "|---|---|---|---:|---:|---:|---:|---:|" + ("---:|" if args.masked else "")]
    for r in results:
        ort_ms = ms(r["ort_median_ms"]) if "ort_median_ms" in r else "—"
        cells = [r["variant"], r["convert"], r["ort_model"] or "—", ort_ms]
        if "ratio_median" in r:
            cells += [ms(r["sparrow_median_ms"]), f"**{r['ratio_median']:.2f}**",
                      f"{r['ratio_min']:.2f}–{r['ratio_max']:.2f}", f"{1 / r['ratio_median']:.2f}"]
        else:
            cells += ["not available in this build", "—", "—", "—"]
        if args.masked:
            cells.append(ms(r["ort_masked_median_ms"]) if "ort_masked_median_ms" in r else "—")
        lines.append("| " + " | ".join(cells) + " |")
    missing = [r for r in results if not r["available"]]
    if missing:
        lines += ["", ", ".join(f"`{r['variant']}`" for r in missing) + f": {missing[0]['reason']}."]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path, metavar="MODEL.onnx")
    ap.add_argument("--variants", type=Path, metavar="DIR",
                    help="a `sparrow bench --sweep --out DIR` directory (default: make the variants here)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10, help="timed runs per block (ORT and Sparrow alike)")
    ap.add_argument("--blocks", type=int, default=5, help="rounds of blocks")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--sparsities", default="0.5,0.7,0.9,0.95", help="without --variants: the sweep's --sparsities")
    ap.add_argument("--prune-channels", default="none", help="without --variants: the sweep's --prune-channels")
    ap.add_argument("--masked", action="store_true", help="also time ORT on each pruned variant's masked ONNX")
    ap.add_argument("--ort-int8", action="store_true",
                    help="time ORT's QDQ int8 model for the int8 rows even while Sparrow has no int8 variant")
    ap.add_argument("--sparrow", default=".build/release/sparrow")
    ap.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    ap.add_argument("--json", type=Path, help="also write all results (with raw latencies) here")
    args = ap.parse_args()
    if args.threads < 1 or args.runs < 1 or args.blocks < 1 or args.warmup < 0:
        ap.error("--threads, --runs and --blocks must be at least 1, --warmup at least 0")
    sparrow = str(Path(args.sparrow).resolve())
    if not Path(sparrow).exists():
        sys.exit(f"no sparrow binary at {sparrow} (build it with `swift build -c release`, or pass --sparrow)")

    command = shlex.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])
    try:
        with tempfile.TemporaryDirectory(prefix="sparrow-compare-") as tmp:
            results = compare(args, sparrow, tmp)
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        sys.exit(f"error: {args.model}: {e}")
    lines = markdown(args, results, command)
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_name(), "onnxruntime": ort.__version__, "command": command,
                                         "model": str(args.model), "threads": args.threads, "runs": args.runs,
                                         "blocks": args.blocks, "warmup": args.warmup, "results": results},
                                        indent=1))


if __name__ == "__main__":
    main()
